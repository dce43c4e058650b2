from .hooks import (
    ArmGuardHook,
    ConvergenceHook,
    FiniteLossHook,
    RandomStateHook,
    UntilConvergedHook,
)
from .loops import ReplayingIterBasedTrainLoop
from .schedulers import WarmupMultiStepLR
from .schedules import LSJ_RULE, PAPER_RULE, Schedule, ScheduleRule, scale_schedule_to_batch

__all__ = [
    'ArmGuardHook',
    'ConvergenceHook',
    'FiniteLossHook',
    'RandomStateHook',
    'UntilConvergedHook',
    'ReplayingIterBasedTrainLoop',
    'WarmupMultiStepLR',
    'LSJ_RULE',
    'PAPER_RULE',
    'Schedule',
    'ScheduleRule',
    'scale_schedule_to_batch',
]
