from .shape_classification import ShapeClassificationDataset
from .synthetic_shapes import (CLASSIFICATION_SHAPES, DETECTION_SHAPES,
                               make_classification_set, make_detection_set)

__all__ = [
    'ShapeClassificationDataset', 'CLASSIFICATION_SHAPES', 'DETECTION_SHAPES',
    'make_classification_set', 'make_detection_set'
]
