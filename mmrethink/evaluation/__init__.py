from .accuracy import ClassificationAccuracy
from .coco_keypoint_metric import CocoKeypointMetric

__all__ = ['ClassificationAccuracy', 'CocoKeypointMetric']
