"""Linear warm-up followed by step decays, in one scheduler (Detectron's LR policy)."""

from bisect import bisect_right
from typing import List, Sequence

from mmengine.logging import print_log
from mmengine.optim import _ParamScheduler  # exported for custom schedulers
from mmengine.optim.scheduler.lr_scheduler import LRSchedulerMixin

from mmrethink.registry import PARAM_SCHEDULERS


@PARAM_SCHEDULERS.register_module()
class WarmupMultiStepLR(LRSchedulerMixin, _ParamScheduler):
    """LR = base LR x warm-up factor x gamma ** (milestones passed), per iteration.

    One scheduler instead of mmengine's ``LinearLR`` + ``MultiStepLR`` pair, so a
    schedule config overrides only ``milestones`` and the loop's ``max_iters``. The
    value is computed in closed form from the step, which keeps resuming exact.

    Args:
        optimizer: The wrapped optimizer.
        milestones: Iterations at which the LR is multiplied by ``gamma``.
        gamma: Decay factor at each milestone.
        warmup_iters: Length of the linear warm-up; 0 disables it.
        warmup_factor: LR factor at iteration 0 of the warm-up (Detectron: 1/3).
    """

    def __init__(
        self,
        optimizer,
        milestones: Sequence[int],
        gamma: float = 0.1,
        warmup_iters: int = 500,
        warmup_factor: float = 1 / 3,
        **kwargs,
    ) -> None:
        if list(milestones) != sorted(milestones):
            raise ValueError(f'milestones must be increasing, got {milestones}')
        if kwargs.get('by_epoch', False):
            raise ValueError('WarmupMultiStepLR is iteration-based; set by_epoch=False.')
        kwargs['by_epoch'] = False
        self.milestones = list(milestones)
        self.gamma = gamma
        self.warmup_iters = warmup_iters
        self.warmup_factor = warmup_factor
        super().__init__(optimizer, **kwargs)
        print_log(
            f'LR schedule: base lr {self.base_values[0]:g}, linear warm-up over '
            f'{warmup_iters} iterations from x{warmup_factor:.3g}, x{gamma:g} at '
            f'iterations {self.milestones}',
            logger='current',
        )

    def move_milestones(self, milestones: Sequence[int]) -> None:
        """Drop the LR at ``milestones`` from now on (UntilConvergedHook ends the
        full-LR stage early), the LR of the next iteration included. A resumed
        scheduler already holds the milestones its run moved: those stand as they are."""
        moved = list(milestones) != self.milestones
        if list(milestones) != sorted(milestones) or (moved and milestones[0] < self.last_step):
            raise ValueError(
                f'milestones must be increasing and not before iteration {self.last_step}, '
                f'got {milestones}'
            )
        self.milestones = list(milestones)
        values = self._get_value()
        for group, value in zip(self.optimizer.param_groups, values):
            group[self.param_name] = value
        self._last_value = values

    def factor(self, step: int) -> float:
        """The LR's multiple of the base LR at iteration ``step``."""
        decay = self.gamma ** bisect_right(self.milestones, step)
        if step >= self.warmup_iters:
            return decay
        alpha = step / self.warmup_iters
        return decay * (self.warmup_factor * (1 - alpha) + alpha)

    def _get_value(self) -> List[float]:
        factor = self.factor(self.last_step)
        return [base * factor for base in self.base_values]
