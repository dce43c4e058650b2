"""The pack's one schedule model: lengths in images seen, sized to a dataset and a batch.

A schedule is a length in images seen, its LR drops, its warm-up and its evaluation
points, written as iterations of a total batch (:class:`Schedule`). A
:class:`ScheduleRule` is a reference run on COCO train2017 and where its family drops
the LR at any length: the paper's (He et al. 2019, Sec. 4: 1x = 90k iterations at batch
16, drops at 60k and 80k, 2/3 and 8/9, as Detectron's 1x; Nx = N x 90k with drops at the
last 60k and 20k whatever N is) and Detectron2's LSJ (100 ep = 184375 iterations at
batch 64, drops at 8/9 and 26/27). One code path derives every number:

- :meth:`ScheduleRule.schedule` sizes a length to a dataset and a total batch by images
  seen (as many passes over each image as the reference run over COCO); on COCO at the
  reference batch it gives the numbers that ``configs/_base_/schedules`` write out (so
  ``print_config`` shows them; the tests check both against numbers written out), but
  for ``lsj_25e.py``, which floors 46093.75 as Detectron2's 50ep leaf does;
- :func:`scaled_iters` is the one rounding rule for a length taken to another batch, and
  :func:`scaled_lr` the LR at that batch (same LR per image); the rule uses both, and so
  does ``tools/train.py --auto-scale-schedule``, which rescales a whole config in place
  at launch (``mmrethink/launching/batch_scaling.py``);
- :meth:`Schedule.config_settings` gives a schedule's config values
  (``tools/pair_experiment.py``).
"""

from typing import Callable, Dict, NamedTuple, Optional, Tuple

from mmengine.config import Config

# The reference runs' dataset: the paper's 1x = 90k iterations x 16 images = 1.44M
# images = 12.17 passes over COCO train2017.
COCO_TRAIN_IMAGES = 118_287
# In units of 1x: Nx (N > 1) drops at the last 60k and 20k of 90k; 1x (and shorter)
# at 2/3 and 8/9 of the run, as Detectron's 1x (60k and 80k).
DROPS_BEFORE_END_NX = (2 / 3, 2 / 9)
DROPS_AT_1X = (2 / 3, 8 / 9)
# detectron2/configs/new_baselines/mask_rcnn_R_50_FPN_100ep_LSJ.py at 02b5c4e, as
# configs/_base_/schedules/lsj_100e.py writes it: 100 ep = 184375 iterations at batch 64
# (its comment: x 64 images / 118000 images per epoch), LR x0.1 at 163889 and 177546.
LSJ_ITERS_PER_100EP = 184_375
LSJ_MILESTONES = (163_889, 177_546)
DETECTRON2_EPOCH = 118_000  # images in Detectron2's epoch of train2017

Lengths = Tuple[int, Tuple[int, ...]]  # max_iters and LR drops


def scaled_iters(iters: float, ratio: float) -> int:
    """``iters`` x ``ratio``, rounded: 0 stays 0 (a scheduler's begin, no warm-up), a
    positive length stays at least one iteration."""
    return max(1, round(iters * ratio)) if iters > 0 else 0


def scaled_lr(lr: float, base_batch: int, total_batch: int) -> float:
    """``lr`` at ``base_batch`` taken to ``total_batch``: linear in the batch (same LR per
    image, as the iterations are scaled by base / total)."""
    return lr * total_batch / base_batch


class Schedule(NamedTuple):
    """One run's schedule in iterations of ``batch`` images, and how it was derived."""

    length: float  # in the rule's unit (the paper's x, LSJ epochs)
    batch: int  # total batch the iterations are counted in
    max_iters: int
    milestones: Tuple[int, ...]
    warmup_iters: int
    val_interval: int  # evaluation and checkpoint
    derivation: str  # in words, one sentence per number

    def config_settings(self) -> Dict[str, dict]:
        """The schedule's config values (evaluation and checkpoint together)."""
        return dict(
            train_cfg=dict(max_iters=self.max_iters, val_interval=self.val_interval),
            param_scheduler=dict(milestones=list(self.milestones), warmup_iters=self.warmup_iters),
            default_hooks=dict(checkpoint=dict(interval=self.val_interval)),
        )


class ScheduleRule(NamedTuple):
    """A reference run on COCO train2017 and its family's schedules at any length."""

    title: str  # the reference run, in words
    unit: str  # how a length is written: '{:g}x', '{:g} ep'
    reference_length: float  # of the reference run, in units
    reference_iters: int  # of the reference run, at ``batch``
    batch: int  # the reference run's total batch
    length_rule: Callable[[float, float], Lengths]  # (length, iterations of one unit)
    describe_drops: Callable[[float], str]  # where ``length_rule`` drops the LR, in words
    warmup_iters: int  # at ``batch``, in the reference run
    warmup_follows_length: bool  # Detectron2's warm-up is a fraction of the run
    val_interval: int  # at ``batch`` on COCO
    lr: float  # at ``batch``

    def schedule(
        self,
        length: float,
        num_images: int = COCO_TRAIN_IMAGES,
        total_batch: Optional[int] = None,
    ) -> Schedule:
        """``length`` (in the rule's unit) for ``num_images`` images at ``total_batch``
        (default: COCO at the reference batch, the pack's own leaves).

        The reference run's iterations are multiplied by (reference batch / total batch)
        x (images / 118287): the run passes over each image as often as the reference run
        passes over COCO. ``length_rule`` sets the length and drops; the warm-up is the
        reference run's at this batch (for Detectron2, as the same fraction of a longer or
        shorter run), at most a tenth of the run; an evaluation and a checkpoint every
        reference interval, scaled alike.
        """
        total_batch = total_batch or self.batch
        if num_images < 1 or total_batch < 1:
            raise ValueError(
                f'need at least one image and a batch of one, got {num_images} '
                f'images at total batch {total_batch}'
            )
        batch_ratio = self.batch / total_batch
        iters_ratio = batch_ratio * num_images / COCO_TRAIN_IMAGES
        unit_iters = self.reference_iters * iters_ratio
        rule_iters, milestones = self.length_rule(length, unit_iters)
        max_iters = max(1, rule_iters)
        warmup_ratio = length / self.reference_length if self.warmup_follows_length else 1
        warmup = max(
            1, min(scaled_iters(self.warmup_iters * warmup_ratio, batch_ratio), max_iters // 10)
        )
        interval = min(scaled_iters(self.val_interval, iters_ratio), max_iters)
        derived = Schedule(length, total_batch, max_iters, milestones, warmup, interval, '')
        return derived._replace(derivation=self._derivation(derived, num_images, unit_iters))

    def lr_at(self, total_batch: int) -> float:
        """The reference run's LR at ``total_batch`` (:func:`scaled_lr`)."""
        return scaled_lr(self.lr, self.batch, total_batch)

    def _derivation(self, derived: Schedule, num_images: int, unit_iters: float) -> str:
        """How :meth:`schedule` got ``derived``, in one sentence per number."""
        reference, length = self.unit.format(self.reference_length), derived.length
        passes = self.reference_iters * self.batch / COCO_TRAIN_IMAGES
        fraction = ', the same fraction of the run' if self.warmup_follows_length else ''
        return (
            f'{self.unit.format(length)} in images seen, from {self.title}: {reference} = '
            f'{self.reference_iters} iterations x {self.batch} images on COCO '
            f'train2017 = {passes:.2f} passes over its {COCO_TRAIN_IMAGES} images; '
            f'{num_images} images at total batch {derived.batch}: {reference} = '
            f'{self.reference_iters} x {self.batch} / {derived.batch} x '
            f'{num_images} / {COCO_TRAIN_IMAGES} = {unit_iters:.0f} iterations, so '
            f'{self.unit.format(length)} = {derived.max_iters} iterations; LR drops '
            f'{self.describe_drops(length)}: {list(derived.milestones)}; warm-up '
            f'{derived.warmup_iters} iterations ({self.warmup_iters} at batch {self.batch} in '
            f'{reference}{fraction}, at most a tenth of the run); evaluation and checkpoint '
            f'every {derived.val_interval} ({self.val_interval} at batch '
            f'{self.batch} on COCO, scaled alike).'
        )


def _paper_lengths(multiple: float, iters_per_1x: float) -> Lengths:
    """The Nx schedule: 6x of 90k -> 540k iterations, drops at 480k and 520k; 1x -> 90k,
    drops at 60k and 80k."""
    max_iters = round(multiple * iters_per_1x)
    if multiple <= 1:
        return max_iters, tuple(round(max_iters * f) for f in DROPS_AT_1X)
    return max_iters, tuple(max_iters - round(iters_per_1x * f) for f in DROPS_BEFORE_END_NX)


def _paper_drops(multiple: float) -> str:
    """Where :func:`_paper_lengths` drops the LR, in words."""
    if multiple <= 1:
        return 'at 2/3 and 8/9 of the run'
    return 'at the last 2/3 and 2/9 of 1x (COCO: the last 60k and 20k)'


def _lsj_lengths(epochs: float, iters_per_100ep: float) -> Lengths:
    """Detectron2's LSJ schedule: 100 ep of 184375 -> 184375 iterations, drops at 163889
    and 177546 (8/9 and 26/27 of the run); N ep scales all three by N / 100, as its 200ep
    and 400ep leaves multiply them. Rounded to the nearest iteration (the 50ep leaf
    floors)."""
    length_ratio = epochs / 100 * iters_per_100ep / LSJ_ITERS_PER_100EP
    return round(LSJ_ITERS_PER_100EP * length_ratio), tuple(
        round(m * length_ratio) for m in LSJ_MILESTONES
    )


def _lsj_drops(epochs: float) -> str:
    """Where :func:`_lsj_lengths` drops the LR, in words (the same at every length)."""
    return 'x0.1 at 8/9 and 26/27 of the run (COCO, 100 ep at batch 64: 163889 and 177546)'


PAPER_RULE = ScheduleRule(
    title="the paper's 1x (Detectron's)",
    unit='{:g}x',
    reference_length=1,
    reference_iters=90_000,
    batch=16,
    length_rule=_paper_lengths,
    describe_drops=_paper_drops,
    warmup_iters=500,  # Detectron's SOLVER.WARM_UP_ITERS
    warmup_follows_length=False,
    val_interval=10_000,  # 9 per 1x
    lr=0.02,
)
LSJ_RULE = ScheduleRule(
    title=f"Detectron2's LSJ 100 ep (new baselines; its epoch is {DETECTRON2_EPOCH} images)",
    unit='{:g} ep',
    reference_length=100,
    reference_iters=LSJ_ITERS_PER_100EP,
    batch=64,
    length_rule=_lsj_lengths,
    describe_drops=_lsj_drops,
    warmup_iters=500,
    warmup_follows_length=True,
    val_interval=5000,
    lr=0.1,
)


def schedule_batch(cfg: Config) -> int:
    """The total batch ``cfg``'s schedule numbers are written for
    (``auto_scale_schedule.base_batch_size``; the paper's 16 where a config has none)."""
    return cfg.get('auto_scale_schedule', {}).get('base_batch_size', PAPER_RULE.batch)
