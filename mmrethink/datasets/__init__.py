from .coco_keypoints import CocoKeypointDataset
from .keypoint_transforms import LoadKeypointAnnotations, PackKeypointDetInputs
from .replayable_stream import (
    PositionedInfiniteSampler,
    PositionSeededDataset,
    ReplayingBatchSampler,
)
from .shape_classification import ShapeClassificationDataset
from .shapes_stream import SyntheticShapesStream
from .synthetic_keypoints import make_keypoint_set
from .synthetic_shapes import (
    CLASSIFICATION_SHAPES,
    DETECTION_SHAPES,
    make_classification_set,
    make_detection_set,
    make_voc_set,
    render_detection_image,
)

__all__ = [
    'CocoKeypointDataset',
    'LoadKeypointAnnotations',
    'PackKeypointDetInputs',
    'PositionedInfiniteSampler',
    'PositionSeededDataset',
    'ReplayingBatchSampler',
    'ShapeClassificationDataset',
    'SyntheticShapesStream',
    'CLASSIFICATION_SHAPES',
    'DETECTION_SHAPES',
    'make_classification_set',
    'make_detection_set',
    'make_keypoint_set',
    'make_voc_set',
    'render_detection_image',
]
