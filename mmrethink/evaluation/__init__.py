from .accuracy import ClassificationAccuracy

__all__ = ['ClassificationAccuracy']
