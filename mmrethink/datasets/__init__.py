from .replayable_stream import (
    PositionedInfiniteSampler,
    PositionSeededDataset,
    ReplayingBatchSampler,
)
from .shape_classification import ShapeClassificationDataset
from .shapes_stream import SyntheticShapesStream
from .synthetic_shapes import (
    CLASSIFICATION_SHAPES,
    DETECTION_SHAPES,
    make_classification_set,
    make_detection_set,
    make_voc_set,
    render_detection_image,
    shapes_config_options,
)

__all__ = [
    'PositionedInfiniteSampler',
    'PositionSeededDataset',
    'ReplayingBatchSampler',
    'ShapeClassificationDataset',
    'SyntheticShapesStream',
    'CLASSIFICATION_SHAPES',
    'DETECTION_SHAPES',
    'make_classification_set',
    'make_detection_set',
    'make_voc_set',
    'render_detection_image',
    'shapes_config_options',
]
