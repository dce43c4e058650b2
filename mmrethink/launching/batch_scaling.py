"""``tools/train.py --auto-scale-schedule``: a config's schedule rescaled at launch to the
total batch the run really has, by the schedule rule's one rounding rule."""

from typing import Callable

from mmengine.config import Config, ConfigDict
from mmengine.logging import print_log
from mmengine.optim.scheduler.param_scheduler import INF

from mmrethink.engine.schedule_rules import scaled_iters, scaled_lr, schedule_batch
from mmrethink.utils.configs import as_list


def total_batch_size(cfg: Config, world_size: int) -> int:
    """Images per iteration over all processes."""
    return world_size * cfg.train_dataloader.batch_size


def scale_schedule_to_batch(cfg: Config, world_size: int) -> None:
    """Rescale ``cfg`` in place from :func:`schedule_batch` to the real total batch.

    Iterations, LR milestones, scheduler bounds, warm-up, checkpoint and validation
    intervals (``val_begin`` and ``dynamic_intervals`` too) are scaled by
    :func:`scaled_iters` with base/real and the LR by :func:`scaled_lr`, so the run sees
    the same images with the same LR per image. MMEngine's ``auto_scale_lr`` scales only
    the LR; it must be off when this is on, or the LR would be scaled twice.
    """
    base_batch = schedule_batch(cfg)
    real_batch = total_batch_size(cfg, world_size)
    if cfg.get('auto_scale_lr', {}).get('enable', False):
        raise ValueError(
            'auto_scale_schedule and auto_scale_lr are both enabled; the LR would be '
            'scaled twice. Drop --auto-scale-lr (auto_scale_schedule scales the LR too).'
        )
    if real_batch == base_batch:
        print_log(
            f'auto_scale_schedule: total batch {real_batch} equals the base '
            'batch, schedule unchanged.',
            logger='current',
        )
        return
    batch_ratio = base_batch / real_batch

    def scaled(iters: int) -> int:
        return scaled_iters(iters, batch_ratio)

    train_cfg = cfg.train_cfg
    before = train_cfg.max_iters
    train_cfg.max_iters = scaled(before)
    for key in ('val_interval', 'val_begin'):
        if key in train_cfg:
            train_cfg[key] = scaled(train_cfg[key])
    if train_cfg.get('dynamic_intervals'):
        train_cfg.dynamic_intervals = [
            (scaled(start), scaled(interval)) for start, interval in train_cfg.dynamic_intervals
        ]
    checkpoint = cfg.get('default_hooks', {}).get('checkpoint')
    if checkpoint is not None and 'interval' in checkpoint:
        checkpoint.interval = scaled(checkpoint.interval)
    schedulers = cfg.param_scheduler
    for scheduler in as_list(schedulers):
        _scale_scheduler(scheduler, scaled)
    optimizer = cfg.optim_wrapper.optimizer
    optimizer.lr = scaled_lr(optimizer.lr, base_batch, real_batch)
    print_log(
        f'auto_scale_schedule: total batch {real_batch} (base {base_batch}): '
        f'max_iters {before} -> {cfg.train_cfg.max_iters}, '
        f'schedulers {schedulers}, lr {optimizer.lr:g}',
        logger='current',
    )


def _scale_scheduler(scheduler: ConfigDict, scaled: Callable[[int], int]) -> None:
    if scheduler.get('by_epoch', False):
        raise ValueError(
            f'auto_scale_schedule works on iteration-based schedules; {scheduler.type} '
            "has by_epoch=True. Use the pack's WarmupMultiStepLR or set by_epoch=False."
        )
    for key in ('begin', 'end', 'warmup_iters'):
        if key in scheduler and scheduler[key] != INF:  # mmengine's "until the end"
            scheduler[key] = scaled(scheduler[key])
    if 'milestones' in scheduler:
        scheduler.milestones = [scaled(m) for m in scheduler.milestones]
