from .arm_guard_hook import ArmGuardHook
from .convergence_hook import ConvergenceHook
from .finite_loss_hook import FiniteLossHook
from .main_process_logger_hook import MainProcessLoggerHook
from .random_state_hook import RandomStateHook
from .until_converged_hook import UntilConvergedHook

__all__ = [
    'ArmGuardHook',
    'ConvergenceHook',
    'FiniteLossHook',
    'MainProcessLoggerHook',
    'RandomStateHook',
    'UntilConvergedHook',
]
