from .replaying_train_loop import ReplayingIterBasedTrainLoop

__all__ = ['ReplayingIterBasedTrainLoop']
