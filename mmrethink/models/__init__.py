from .backbone_classifier import BackboneClassifier
from .detectron2_init import Detectron2Init
from .empty_safe_sync_bn import EmptySafeSyncBN

__all__ = ['BackboneClassifier', 'Detectron2Init', 'EmptySafeSyncBN']
