from .shape_classification import ShapeClassificationDataset
from .synthetic_shapes import (
    CLASSIFICATION_SHAPES,
    DETECTION_SHAPES,
    make_classification_set,
    make_detection_set,
    shapes_config_options,
)

__all__ = [
    'ShapeClassificationDataset',
    'CLASSIFICATION_SHAPES',
    'DETECTION_SHAPES',
    'make_classification_set',
    'make_detection_set',
    'shapes_config_options',
]
