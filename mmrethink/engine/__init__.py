from .hooks import ArmGuardHook, ConvergenceHook, FiniteLossHook, RandomStateHook
from .loops import ReplayingIterBasedTrainLoop
from .schedulers import WarmupMultiStepLR
from .schedules import Schedule, paper_schedule, scale_schedule_to_batch

__all__ = [
    'ArmGuardHook',
    'ConvergenceHook',
    'FiniteLossHook',
    'RandomStateHook',
    'ReplayingIterBasedTrainLoop',
    'WarmupMultiStepLR',
    'Schedule',
    'paper_schedule',
    'scale_schedule_to_batch',
]
