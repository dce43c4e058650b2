from .warmup_multistep_lr import WarmupMultiStepLR

__all__ = ['WarmupMultiStepLR']
