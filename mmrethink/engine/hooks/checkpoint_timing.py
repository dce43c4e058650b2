"""When the Runner writes a checkpoint and which one it resumes: the hooks' shared view."""

from typing import TYPE_CHECKING, Dict, Optional

import torch
from mmengine.config import Config
from mmengine.hooks import CheckpointHook
from mmengine.runner import CheckpointLoader, find_latest_checkpoint

if TYPE_CHECKING:
    from mmengine.runner import Runner


def checkpoint_due(runner: 'Runner') -> bool:
    """Whether the CheckpointHook saves after the current training iteration (its own
    rule). Checkpoints are written by rank 0 alone: a hook that puts what every rank
    holds into one must gather it at this iteration, on every rank."""
    hook = next((h for h in runner.hooks if isinstance(h, CheckpointHook)), None)
    if hook is None or hook.by_epoch or hook.interval <= 0:
        return False
    return hook.every_n_train_iters(runner, hook.interval, hook.save_begin) or (
        hook.save_last and hook.is_last_train_iter(runner)
    )


def resume_path(cfg: Config, work_dir: str) -> Optional[str]:
    """The checkpoint a run of ``cfg`` resumes from, as ``Runner.load_or_resume`` picks
    it (None: the run starts afresh)."""
    if not cfg.get('resume'):
        return None
    return cfg.get('load_from') or find_latest_checkpoint(work_dir)


def checkpoint_to_resume(runner: 'Runner') -> Optional[str]:
    """The checkpoint the Runner resumes from, as ``Runner.load_or_resume`` picks it."""
    return resume_path(runner.cfg, runner.work_dir)


def read_checkpoint(path: str) -> Dict:
    """A checkpoint, read for its ``meta`` and small entries: a local file is
    memory-mapped, so its weights are not read (the Runner loads the file after). It is
    loaded as torch loads by default, as mmengine's resume does after it: weights only,
    with mmengine's types allowed, where torch defaults to that (>= 2.6,
    ``compat/checkpoint_loading.py``)."""
    if '://' in path:
        return CheckpointLoader.load_checkpoint(path, map_location='cpu', logger='silent')
    return torch.load(path, map_location='cpu', mmap=True)
