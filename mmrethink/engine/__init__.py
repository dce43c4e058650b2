from .hooks import (
    ArmGuardHook,
    ConvergenceHook,
    FiniteLossHook,
    RandomStateHook,
    UntilConvergedHook,
)
from .loops import ReplayingIterBasedTrainLoop
from .schedule_rules import LSJ_RULE, PAPER_RULE, Schedule, ScheduleRule
from .schedulers import WarmupMultiStepLR

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
]
