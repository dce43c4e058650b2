from .backbone_classifier import BackboneClassifier
from .detectron2_init import Detectron2Init
from .empty_safe_sync_bn import EmptySafeSyncBN
from .keypoint_head import KeypointRCNNHead
from .keypoint_roi_head import KeypointRCNN, KeypointRoIHead

__all__ = [
    'BackboneClassifier',
    'Detectron2Init',
    'EmptySafeSyncBN',
    'KeypointRCNN',
    'KeypointRCNNHead',
    'KeypointRoIHead',
]
