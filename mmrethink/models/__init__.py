from .backbone_classifier import BackboneClassifier
from .detectron2_init import Detectron2Init

__all__ = ['BackboneClassifier', 'Detectron2Init']
