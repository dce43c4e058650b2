"""The data behind the paper's convergence figures, written at every evaluation."""

import bisect
import os.path as osp
from typing import TYPE_CHECKING, Dict, Optional

import torch
from mmengine.dist import all_reduce, is_main_process
from mmengine.hooks import Hook
from mmengine.logging import print_log

from mmrethink.registry import HOOKS
from mmrethink.utils.convergence_records import (
    COUNTS,
    FILENAME,
    append_record,
    convergence_record,
    read_convergence,
)

from .checkpoint_timing import checkpoint_due

if TYPE_CHECKING:
    from mmengine.runner import Runner


def val_interval_at(loop: object, iteration: int) -> int:
    """The evaluation interval mmengine's IterBasedTrainLoop uses after ``iteration``,
    its ``dynamic_intervals`` included (0 for a loop without one): the loop only sets
    ``val_interval`` from them once it has trained an iteration."""
    milestones = getattr(loop, 'dynamic_milestones', None)
    if not milestones:
        return getattr(loop, 'val_interval', 0)
    return loop.dynamic_intervals[bisect.bisect(milestones, iteration + 1) - 1]


@HOOKS.register_module()
class ConvergenceHook(Hook):
    """Append ``{iter, lr, images, instances, pixels, <metrics>}`` to a JSON lines file
    (the format of :mod:`mmrethink.utils.convergence_records`).

    Images, instances and pixels are counted from the real training batches (pixels
    of each image after the pipeline, before batch padding) and summed over all ranks,
    so the curves can be drawn against samples seen as in the paper's Figure 1. The
    totals travel in every checkpoint, so ``--resume`` continues them; the file is only
    ever appended to (a record past the resumed checkpoint is superseded by the one
    written again after it: readers keep the last record per iteration). A checkpoint
    is written just before the evaluation of the same iteration; if a run was killed in
    between, the resumed run evaluates that iteration first, so no point is lost.
    Counting is a few integer additions per iteration; ranks are summed only at
    evaluations and at the iterations the CheckpointHook saves (checkpoints are written
    by rank 0 alone, so the sum must be ready before).

    Args:
        filename: File name inside the work dir.
    """

    priority = 'LOW'

    def __init__(self, filename: str = FILENAME) -> None:
        self.filename = filename
        self.total = dict.fromkeys(COUNTS, 0)  # all ranks, as of the last sync
        self.local = dict.fromkeys(COUNTS, 0)  # this rank, since the last sync
        self.resumed_iter = 0

    def after_train_iter(
        self, runner: 'Runner', batch_idx: int, data_batch: Optional[Dict] = None, outputs=None
    ) -> None:
        """Count this rank's images, instances and pixels; sum ranks before a checkpoint."""
        inputs = data_batch['inputs']
        self.local['images'] += len(inputs)
        self.local['pixels'] += sum(img.shape[-2] * img.shape[-1] for img in inputs)
        self.local['instances'] += sum(
            len(sample.gt_instances) for sample in data_batch['data_samples']
        )
        if runner is not None and checkpoint_due(runner):
            self._sync()

    def _sync(self) -> Dict[str, int]:
        local = torch.tensor([self.local[k] for k in COUNTS], dtype=torch.float64)
        all_reduce(local)
        for key, value in zip(COUNTS, local.tolist()):
            self.total[key] += int(value)
            self.local[key] = 0
        return dict(self.total)

    def before_save_checkpoint(self, runner: 'Runner', checkpoint: Dict) -> None:
        """Store the totals so that --resume continues them."""
        checkpoint['convergence'] = dict(self.total)  # synced in after_train_iter

    def after_load_checkpoint(self, runner: 'Runner', checkpoint: Dict) -> None:
        """Restore the totals of the resumed checkpoint."""
        if 'convergence' in checkpoint:
            self.total = dict(checkpoint['convergence'])
            self.local = dict.fromkeys(COUNTS, 0)
            self.resumed_iter = checkpoint['meta'].get('iter', 0)
            print_log(
                f'ConvergenceHook: continuing from {self.total} at iteration {self.resumed_iter}',
                logger='current',
            )

    def before_train_epoch(self, runner: 'Runner') -> None:
        """Re-run an evaluation a kill interrupted (once every hook's before_train has
        run: the CheckpointHook must be ready to save the best checkpoint)."""
        path = osp.join(runner.work_dir, self.filename)
        interval = val_interval_at(runner.train_loop, self.resumed_iter)
        if not (self.resumed_iter and interval and self.resumed_iter % interval == 0):
            return
        recorded = {r['iter'] for r in read_convergence(path)} if osp.isfile(path) else set()
        if self.resumed_iter not in recorded:
            print_log(
                f'ConvergenceHook: the evaluation at iteration {self.resumed_iter} '
                'was interrupted; running it before training resumes.',
                logger='current',
            )
            runner.val_loop.run()

    def after_val_epoch(self, runner: 'Runner', metrics: Optional[Dict[str, float]] = None) -> None:
        """Append one record: iteration, LR, totals over all ranks and the metrics."""
        record = convergence_record(
            runner.iter, runner.optim_wrapper.get_lr()['lr'][0], self._sync(), metrics or {}
        )
        if is_main_process():
            append_record(osp.join(runner.work_dir, self.filename), record)
