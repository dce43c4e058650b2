"""Stop at the first non-finite loss, with what is needed to diagnose it."""

from typing import TYPE_CHECKING, Dict, Optional

import torch
from mmengine.hooks import Hook

from mmrethink.registry import HOOKS

if TYPE_CHECKING:
    from mmengine.runner import Runner


@HOOKS.register_module()
class FiniteLossHook(Hook):
    """Raise ``FloatingPointError`` naming the iteration, loss terms and LR.

    It runs before the checkpoint hook, so the diverged weights are never saved and the
    last checkpoint stays the last good one. Scratch arms diverge mostly in the first
    iterations; the pack's answer is the warm-up in the schedule base (and, if needed,
    ``optim_wrapper.clip_grad``), documented in configs/rethinking/README.md.
    """

    priority = 'ABOVE_NORMAL'

    def after_train_iter(
        self,
        runner: 'Runner',
        batch_idx: int,
        data_batch: Optional[Dict] = None,
        outputs: Optional[Dict] = None,
    ) -> None:
        """Raise at the first non-finite loss term, before any checkpoint is written."""
        losses = {
            k: torch.as_tensor(v).detach().float()
            for k, v in (outputs or {}).items()
            if 'loss' in k
        }
        if not losses or torch.isfinite(torch.stack(list(losses.values()))).all():
            return  # one device sync per iteration, however many loss terms
        lr = runner.optim_wrapper.get_lr()['lr'][0]
        raise FloatingPointError(
            f'Non-finite loss at iteration {runner.iter + 1}: '
            + ', '.join(f'{k}={v.item():.4g}' for k, v in losses.items())
            + f', lr={lr:.4g}. The last checkpoint in {runner.work_dir} is the last good '
            'one. Lower optim_wrapper.optimizer.lr, lengthen the warm-up '
            '(param_scheduler.warmup_iters) or set optim_wrapper.clip_grad, then --resume.'
        )
