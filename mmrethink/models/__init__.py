from .msra_init import MSRAInit
from .tiny_classifier import BackboneClassifier

__all__ = ['MSRAInit', 'BackboneClassifier']
