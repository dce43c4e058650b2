"""The paper's schedule rule, and its rescaling to another total batch size.

He et al. (2019), Sec. 4: 1x = 90k iterations at batch 16, Nx = N x 90k, and for the
longer schedules the LR drops 10x at the last 60k and the last 20k iterations whatever
N is. 1x itself is Detectron's (the "typical fine-tuning schedule" of the paper's
Figure 1): drops at 60k and 80k, 2/3 and 8/9 of the run. The schedule bases in
configs/_base_/schedules write the resulting numbers out (so ``print_config`` shows
them); :func:`paper_schedule` is the rule they are checked against, and
:func:`scale_schedule_to_batch` is the option that keeps the number of images seen
equal when the real total batch differs from 16.
"""

from typing import Callable, NamedTuple, Tuple

from mmengine.config import Config, ConfigDict
from mmengine.logging import print_log
from mmengine.optim.scheduler.param_scheduler import INF

REFERENCE_BATCH = 16
ITERS_PER_1X = 90_000
# In units of 1x: Nx (N > 1) drops at the last 60k and 20k of 90k; 1x (and shorter)
# at 2/3 and 8/9 of the run, as Detectron's 1x (60k and 80k).
DROPS_BEFORE_END_NX = (2 / 3, 2 / 9)
DROPS_AT_1X = (2 / 3, 8 / 9)


class Schedule(NamedTuple):
    """Length and LR drops of one schedule, in iterations at batch 16."""

    max_iters: int
    milestones: Tuple[int, ...]


def paper_schedule(multiple: float, iters_per_1x: int = ITERS_PER_1X) -> Schedule:
    """The Nx schedule at batch 16: 6x -> 540k iters, drops at 480k and 520k; 1x ->
    90k, drops at 60k and 80k. ``iters_per_1x`` rescales the rule (the demo's 1x)."""
    max_iters = round(multiple * iters_per_1x)
    if multiple <= 1:
        return Schedule(max_iters, tuple(round(max_iters * f) for f in DROPS_AT_1X))
    return Schedule(
        max_iters, tuple(max_iters - round(iters_per_1x * f) for f in DROPS_BEFORE_END_NX)
    )


def total_batch_size(cfg: Config, world_size: int) -> int:
    """Images per iteration over all processes."""
    return world_size * cfg.train_dataloader.batch_size


def scale_schedule_to_batch(cfg: Config, world_size: int) -> None:
    """Rescale ``cfg`` in place from ``auto_scale_schedule.base_batch_size`` to the real batch.

    Iterations, LR milestones, scheduler bounds, warm-up, checkpoint and validation
    intervals (``val_begin`` and ``dynamic_intervals`` too) are multiplied by
    base/real and the LR by real/base, so the run sees the same images
    with the same LR per image. MMEngine's ``auto_scale_lr`` scales only the LR; it must
    be off when this is on, or the LR would be scaled twice.
    """
    options = cfg.get('auto_scale_schedule', {})
    base_batch = options.get('base_batch_size', REFERENCE_BATCH)
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
    ratio = base_batch / real_batch

    def scaled(n: int) -> int:
        # 0 stays 0 (a scheduler's begin, no warm-up); a positive length stays >= 1.
        return max(1, round(n * ratio)) if n > 0 else n

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
    for scheduler in schedulers if isinstance(schedulers, list) else [schedulers]:
        _scale_scheduler(scheduler, scaled)
    cfg.optim_wrapper.optimizer.lr *= real_batch / base_batch
    print_log(
        f'auto_scale_schedule: total batch {real_batch} (base {base_batch}): '
        f'max_iters {before} -> {cfg.train_cfg.max_iters}, '
        f'schedulers {schedulers}, lr {cfg.optim_wrapper.optimizer.lr:g}',
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


# The paper's schedules are lengths in images seen: 1x = 90k iterations x 16 images =
# 1.44M images = 12.17 epochs of COCO train2017.
COCO_TRAIN_IMAGES = 118_287
WARMUP_ITERS = 500  # at batch 16 (Detectron's SOLVER.WARM_UP_ITERS)
