from .hooks import ArmGuardHook, ConvergenceHook, FiniteLossHook
from .schedulers import WarmupMultiStepLR
from .schedules import Schedule, paper_schedule, scale_schedule_to_batch

__all__ = [
    'ArmGuardHook',
    'ConvergenceHook',
    'FiniteLossHook',
    'WarmupMultiStepLR',
    'Schedule',
    'paper_schedule',
    'scale_schedule_to_batch',
]
