from .msra_init import MSRAInit
from .backbone_classifier import BackboneClassifier

__all__ = ['MSRAInit', 'BackboneClassifier']
