"""Resuming on another number of processes: refused, or the same experiment on purpose.

A run's experiment depends on its number of processes W: the total batch is W times
the per-process batch (and with ``--auto-scale-schedule`` the schedule is derived from
it), each process draws every W-th sample of the replayed stream, and its random states
are one per process. A resume on W' != W processes is refused before anything is
loaded. With ``--resume-other-world-size`` the total batch is kept instead (the
per-process batch becomes B / W'): iteration i still trains on the samples at stream
positions [i B, (i + 1) B), each augmented as before (its randomness is seeded by its
position), at the same LR and schedule. What changes is which process holds which
sample and the model's own random draws (RPN and RoI sampling), whose per-process
states cannot be carried over; both are logged.
"""

import os.path as osp
from typing import Dict, Optional

from mmengine.config import Config
from mmengine.logging import print_log

from mmrethink.utils.refusal import Refusal

from .hooks.checkpoint_timing import read_checkpoint, resume_path

FLAG = '--resume-other-world-size'
# Where tools/train.py records an accepted change, for the hooks and the run's config.
CHANGE_KEY = 'resume_world_size_change'


class WorldSizeChanged(Refusal):
    """A resume on another number of processes than the checkpoint's run had."""


def saved_world(checkpoint: Dict, batch_per_process: int) -> Optional[Dict[str, int]]:
    """The processes and per-process batch of the run that wrote ``checkpoint`` (None if
    it does not say: written without RandomStateHook)."""
    meta = checkpoint.get('meta', {})
    if 'world_size' in meta:
        return dict(world_size=meta['world_size'], batch=meta['batch_per_process'])
    states = checkpoint.get('random_states')  # checkpoints written before 'world_size'
    return dict(world_size=len(states), batch=batch_per_process) if states else None


def check_resume_world_size(cfg: Config, work_dir: str, world_size: int, allow: bool) -> None:
    """Refuse a resume on another number of processes than ``cfg``'s checkpoint was
    written by; with ``allow``, keep its total batch by setting the per-process batch
    and record the change in ``cfg`` (:data:`CHANGE_KEY`)."""
    path = resume_path(cfg, work_dir)
    if path is None or ('://' not in path and not osp.isfile(path)):
        return  # nothing to resume (ArmGuardHook names a missing --resume PATH)
    batch = cfg.train_dataloader.batch_size
    saved = saved_world(read_checkpoint(path), batch)
    if saved is None or saved['world_size'] == world_size:
        return
    total = saved['world_size'] * saved['batch']
    was = f'{saved["world_size"]} processes x {saved["batch"]} images = batch {total}'
    if not allow:
        raise WorldSizeChanged(
            f'--resume {path}: that checkpoint was written by a run of {was}; this run '
            f'has {world_size} processes. Resuming on another number of processes would '
            'make it another experiment (another total batch, another split of the data '
            f'stream). Resume on {saved["world_size"]} processes, or pass {FLAG} to keep '
            f'the total batch {total} ({total} / {world_size} images per process).'
        )
    if total % world_size:
        raise WorldSizeChanged(
            f'--resume {path} {FLAG}: the total batch {total} ({was}) cannot be split '
            f'evenly over {world_size} processes. Resume on a number of processes that '
            f'divides {total}.'
        )
    cfg.train_dataloader.batch_size = total // world_size
    cfg[CHANGE_KEY] = dict(
        checkpoint=path,
        world_size=[saved['world_size'], world_size],
        batch_per_process=[saved['batch'], total // world_size],
    )
    print_log(
        f'{FLAG}: resuming {path} ({was}) on {world_size} processes x '
        f'{total // world_size} images: the total batch {total}, the LR, the schedule and '
        'the samples of each iteration (with their augmentations) are kept; which process '
        "trains which sample changes, and the model's random draws (RPN and RoI sampling) "
        'start from fresh per-process states.',
        logger='current',
    )
