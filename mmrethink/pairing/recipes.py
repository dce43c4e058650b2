"""The recipes a paired experiment can follow, and their schedules for any dataset.

A recipe is a reference run on COCO train2017 (118,287 images) and the pack's arms that
follow it: the paper's 1x (90k iterations at batch 16, ``configs/rethinking``) or
Detectron2's LSJ 100 epochs (184,375 iterations at batch 64, ``configs/modern``).
:func:`recipe_schedule` carries a reference run to another dataset size and total batch
by images seen: as many passes over each training image, the LR drops at the same
points of the run, the warm-up and the LR scaled to the batch as
``tools/train.py --auto-scale-schedule`` scales them (same LR per image).
"""

from typing import Callable, Dict, NamedTuple, Tuple

from mmrethink.engine.schedules import (
    COCO_TRAIN_IMAGES,
    ITERS_PER_1X,
    REFERENCE_BATCH,
    WARMUP_ITERS,
    Schedule,
    paper_schedule,
)

# detectron2/configs/new_baselines/mask_rcnn_R_50_FPN_100ep_LSJ.py at 02b5c4e, as
# configs/_base_/schedules/lsj_100e.py writes it: 100 ep = 184375 iterations at batch 64
# (its comment: x 64 images / 118000 images per epoch), LR x0.1 at 163889 and 177546.
LSJ_ITERS_PER_100EP = 184_375
LSJ_MILESTONES = (163_889, 177_546)
LSJ_BATCH = 64
DETECTRON2_EPOCH = 118_000  # images in Detectron2's epoch of train2017


class DatasetSchedule(NamedTuple):
    """A schedule for one dataset and total batch, with how it was derived."""

    multiple: float  # the length, in the recipe's unit
    max_iters: int
    milestones: Tuple[int, ...]
    warmup_iters: int
    val_interval: int
    derivation: str


def lsj_schedule(epochs: float, iters_per_100ep: float = LSJ_ITERS_PER_100EP) -> Schedule:
    """Detectron2's LSJ schedule: 100 ep -> 184375 iterations, drops at 163889 and
    177546 (8/9 and 26/27 of the run); N ep scales all three by N / 100, as its 200ep
    and 400ep leaves multiply them. ``iters_per_100ep`` rescales the rule (another
    dataset or batch). Rounded to the nearest iteration (the 50ep leaf floors)."""
    scale = epochs / 100 * iters_per_100ep / LSJ_ITERS_PER_100EP
    return Schedule(
        round(LSJ_ITERS_PER_100EP * scale), tuple(round(m * scale) for m in LSJ_MILESTONES)
    )


def _paper_drops(multiple: float) -> str:
    """Where :func:`paper_schedule` drops the LR, in words."""
    if multiple <= 1:
        return 'at 2/3 and 8/9 of the run'
    return 'at the last 2/3 and 2/9 of 1x (COCO: the last 60k and 20k)'


def _lsj_drops(epochs: float) -> str:
    """Where :func:`lsj_schedule` drops the LR, in words (the same at every length)."""
    return 'x0.1 at 8/9 and 26/27 of the run (COCO, 100 ep at batch 64: 163889 and 177546)'


class Recipe(NamedTuple):
    """A reference run on COCO train2017 and the pack's arms that follow it."""

    name: str  # the value of --recipe
    title: str  # the reference run, in words
    unit: str  # how a length is written: '{:g}x', '{:g} ep'
    name_format: str  # the schedule's component of a config name
    reference_length: float  # of the reference run, in units
    reference_iters: int  # of the reference run, at reference_batch
    reference_batch: int
    rule: Callable[[float, float], Schedule]  # (length, iterations of the reference length)
    drops: Callable[[float], str]  # where ``rule`` drops the LR, in words
    warmup_iters: int  # at reference_batch, in the reference run
    warmup_follows_length: bool  # Detectron2's warm-up is a fraction of the run
    val_interval: int  # at reference_batch on COCO
    lr: float  # at reference_batch
    bases: Dict[Tuple[str, str], str]  # (masks or boxes, norm) -> arm, with {depth}, {arm}
    norm: str  # the default --norm
    lengths: Dict[str, float]  # each arm's default length
    batch_per_gpu: int  # default images per GPU (the reference runs use 8 GPUs)


PAPER = Recipe(
    name='paper',
    title="the paper's 1x (Detectron's)",
    unit='{:g}x',
    name_format='{:g}x',
    reference_length=1,
    reference_iters=ITERS_PER_1X,
    reference_batch=REFERENCE_BATCH,
    rule=paper_schedule,
    drops=_paper_drops,
    warmup_iters=WARMUP_ITERS,
    warmup_follows_length=False,
    val_interval=10_000,  # 9 per 1x
    lr=0.02,
    bases={
        ('mask', 'gn'): 'mmrethink::rethinking/mask-rcnn_r{depth}-{arm}_fpn_gn-all_1x_coco.py',
        ('mask', 'syncbn'): (
            'mmrethink::rethinking/mask-rcnn_r{depth}-{arm}_fpn_syncbn-all_1x_coco.py'
        ),
        ('box', 'gn'): 'mmrethink::rethinking/faster-rcnn_r50-{arm}_fpn_gn-all_3x_coco.py',
    },
    norm='gn',
    lengths=dict(scratch=3.0, pretrained=1.0),
    batch_per_gpu=2,
)
LSJ = Recipe(
    name='lsj',
    title=f"Detectron2's LSJ 100 ep (new baselines; its epoch is {DETECTRON2_EPOCH} images)",
    unit='{:g} ep',
    name_format='lsj-{:g}e',
    reference_length=100,
    reference_iters=LSJ_ITERS_PER_100EP,
    reference_batch=LSJ_BATCH,
    rule=lsj_schedule,
    drops=_lsj_drops,
    warmup_iters=500,
    warmup_follows_length=True,
    val_interval=5000,
    lr=0.1,
    bases={
        ('mask', 'syncbn'): (
            'mmrethink::modern/mask-rcnn_r{depth}-{arm}_fpn_syncbn-all_lsj-100e_coco.py'
        ),
    },
    norm='syncbn',  # Detectron2's new baselines: SyncBN everywhere
    # configs/modern: 25 ep is the pretrained-only quarter of 100 ep, compared with the
    # 100 ep scratch arm.
    lengths=dict(scratch=100.0, pretrained=25.0),
    batch_per_gpu=8,
)
RECIPES = {recipe.name: recipe for recipe in (PAPER, LSJ)}


def scaled_lr(recipe: Recipe, total_batch: int) -> float:
    """The recipe's LR at ``total_batch``: linear in the batch (same LR per image)."""
    return recipe.lr * total_batch / recipe.reference_batch


def recipe_schedule(
    recipe: Recipe, length: float, num_images: int, total_batch: int
) -> DatasetSchedule:
    """``length`` (in the recipe's unit) for ``num_images`` images at ``total_batch``.

    Each reference number is multiplied by (reference batch / total batch) x
    (images / 118287): the run passes over each image as often as the reference run
    passes over COCO. The rule sets the length and drops; the warm-up is the reference
    run's at this batch (for Detectron2, as the same fraction of a longer or shorter
    run), at most a tenth of the run; an evaluation and a checkpoint every reference
    interval, scaled alike. For COCO at the reference batch it gives the pack's leaves.
    """
    if num_images < 1 or total_batch < 1:
        raise ValueError(
            f'need at least one image and a batch of one, got {num_images} '
            f'images at total batch {total_batch}'
        )
    batch_ratio = recipe.reference_batch / total_batch
    scale = batch_ratio * num_images / COCO_TRAIN_IMAGES
    unit_iters = recipe.reference_iters * scale
    schedule = recipe.rule(length, unit_iters)
    max_iters = max(1, schedule.max_iters)
    warmup_length = length / recipe.reference_length if recipe.warmup_follows_length else 1
    warmup = max(1, min(round(recipe.warmup_iters * warmup_length * batch_ratio), max_iters // 10))
    interval = max(1, min(round(recipe.val_interval * scale), max_iters))
    derived = DatasetSchedule(length, max_iters, schedule.milestones, warmup, interval, '')
    text = _derivation(recipe, derived, num_images, total_batch, unit_iters)
    return derived._replace(derivation=text)


def _derivation(
    recipe: Recipe, derived: DatasetSchedule, num_images: int, total_batch: int, unit_iters: float
) -> str:
    """How :func:`recipe_schedule` got ``derived``, in one sentence per number."""
    reference, length = recipe.unit.format(recipe.reference_length), derived.multiple
    passes = recipe.reference_iters * recipe.reference_batch / COCO_TRAIN_IMAGES
    fraction = ', the same fraction of the run' if recipe.warmup_follows_length else ''
    return (
        f'{recipe.unit.format(length)} in images seen, from {recipe.title}: {reference} = '
        f'{recipe.reference_iters} iterations x {recipe.reference_batch} images on COCO '
        f'train2017 = {passes:.2f} passes over its {COCO_TRAIN_IMAGES} images; '
        f'{num_images} images at total batch {total_batch}: {reference} = '
        f'{recipe.reference_iters} x {recipe.reference_batch} / {total_batch} x '
        f'{num_images} / {COCO_TRAIN_IMAGES} = {unit_iters:.0f} iterations, so '
        f'{recipe.unit.format(length)} = {derived.max_iters} iterations; LR drops '
        f'{recipe.drops(length)}: {list(derived.milestones)}; warm-up {derived.warmup_iters} '
        f'iterations ({recipe.warmup_iters} at batch {recipe.reference_batch} in '
        f'{reference}{fraction}, at most a tenth of the run); evaluation and checkpoint '
        f'every {derived.val_interval} ({recipe.val_interval} at batch '
        f'{recipe.reference_batch} on COCO, scaled alike).'
    )
