"""The two configs of a paired experiment, written as short diffs on the pack's arms."""

import os
import os.path as osp
from dataclasses import dataclass
from typing import Dict, List, Optional

from mmrethink.utils.arms import ARMS

from .dataset import DatasetSummary, PairingError, regime
from .recipes import RECIPES, DatasetSchedule, Recipe, recipe_schedule, scaled_lr

GN_101 = 'open-mmlab://detectron/resnet101_gn'


@dataclass
class PairedConfigs:
    """Paths of the two configs written, and each arm's schedule."""

    paths: Dict[str, str]
    schedules: Dict[str, DatasetSchedule]
    lr_note: str = ''


def _as_call(value: object) -> str:
    """A value as config text, dicts written ``dict(key=...)`` as configs are."""
    if isinstance(value, dict):
        return 'dict(' + ', '.join(f'{k}={_as_call(v)}' for k, v in value.items()) + ')'
    return repr(value)


def _model_overrides(
    summary: DatasetSummary,
    algorithm: str,
    depth: int,
    arm: str,
    checkpoint: Optional[str],
    prefix: Optional[str],
) -> str:
    heads = f'bbox_head=dict(num_classes={len(summary.classes)})'
    if algorithm == 'mask':
        heads += f', mask_head=dict(num_classes={len(summary.classes)})'
    backbone = {}
    if algorithm == 'box' and depth == 101:  # the pack's Faster R-CNN arms are R50
        backbone['depth'] = 101
        if arm == 'pretrained':
            backbone['init_cfg'] = dict(checkpoint=GN_101)
    if arm == 'pretrained' and checkpoint:
        backbone['init_cfg'] = dict(checkpoint=checkpoint, **({'prefix': prefix} if prefix else {}))
    backbone_text = f'backbone={_as_call(backbone)}, ' if backbone else ''
    return f'model = dict({backbone_text}roi_head=dict({heads}))\n'


def _config_text(
    summary: DatasetSummary,
    arm: str,
    base: str,
    header: str,
    batch_per_gpu: Optional[int],
    model: str,
    schedule: str,
) -> str:
    def split(ann: str, images: str) -> str:
        return (
            f"data_root='', ann_file={ann!r}, data_prefix=dict(img={images!r}), metainfo=metainfo"
        )

    return (
        f'# The {arm} arm of a paired experiment (tools/pair_experiment.py).\n'
        f'# {regime(summary.num_train_images)}\n'
        f'{header}'
        f'_base_ = {base!r}\n\n'
        f'metainfo = dict(classes={tuple(summary.classes)!r})\n'
        'train_dataloader = dict('
        + (f'batch_size={batch_per_gpu}, ' if batch_per_gpu else '')
        + f'dataset=dict({split(summary.train_ann, summary.train_images)}))\n'
        f'val_dataloader = dict(dataset=dict({split(summary.val_ann, summary.val_images)}))\n'
        'test_dataloader = val_dataloader\n'
        f'val_evaluator = dict(ann_file={summary.val_ann!r})\n'
        'test_evaluator = val_evaluator\n' + model + schedule
    )


def _schedule_text(
    schedule: DatasetSchedule, lr: Optional[float], total_batch: Optional[int]
) -> str:
    """The arm's schedule lines; with the LR scaled to ``total_batch``, that LR and the
    batch that ``--auto-scale-schedule`` would rescale both from."""
    text = (
        f'train_cfg = dict(max_iters={schedule.max_iters}, val_interval={schedule.val_interval})\n'
        f'param_scheduler = dict(milestones={list(schedule.milestones)}, '
        f'warmup_iters={schedule.warmup_iters})\n'
        f'default_hooks = dict(checkpoint=dict(interval={schedule.val_interval}))\n'
    )
    if lr is None:
        return text
    return text + (
        f'optim_wrapper = dict(optimizer=dict(lr={lr:.10g}))\n'
        '# The schedule and LR above are for this total batch: tools/train.py\n'
        '# --auto-scale-schedule on another one rescales them from it.\n'
        f'auto_scale_schedule = dict(base_batch_size={total_batch})\n'
        f'auto_scale_lr = dict(base_batch_size={total_batch})\n'
    )


def _base_template(recipe: Recipe, algorithm: str, norm: str, train_ann: str) -> str:
    """The pack's arm (``{depth}``, ``{arm}`` left in) for the data and norm, or why the
    recipe has none."""
    template = recipe.bases.get((algorithm, norm))
    if template is not None:
        return template
    norms = sorted({n for _, n in recipe.bases})
    if norm not in norms:
        raise PairingError(
            f'--norm {norm} with --recipe {recipe.name}: its arms use {" or ".join(norms)}; '
            f'pass --norm {norms[0]}, or leave --norm out.'
        )
    if algorithm not in {a for a, _ in recipe.bases}:
        raise PairingError(
            f'--recipe {recipe.name} has Mask R-CNN arms only, and {train_ann} has no masks '
            "(no 'segmentation' in its annotations): add polygon or RLE masks to it, or "
            'pass --recipe paper, whose Faster R-CNN arms train on boxes alone.'
        )
    raise PairingError(
        f"{norm} with box-only data: the pack's Faster R-CNN arms use "
        'GN; pass --norm gn, or masks in the annotation file.'
    )


def _lr(recipe: Recipe, total_batch: Optional[int], custom_base: bool) -> Optional[float]:
    """The LR to write: the recipe's, linear in the batch, for the pack's own arms."""
    return None if custom_base or not total_batch else scaled_lr(recipe, total_batch)


def _lr_note(recipe: Recipe, total_batch: Optional[int], lr: Optional[float]) -> str:
    """What the LR is and why, for the config header and the tool's output."""
    if lr is None:
        return "the base's own"
    return (
        f'{lr:g} ({recipe.lr:g} at total batch {recipe.reference_batch}, x {total_batch} / '
        f'{recipe.reference_batch}: the same LR per image, as --auto-scale-schedule scales it)'
    )


def _derived_schedules(
    recipe: Recipe, lengths: Optional[Dict[str, float]], num_images: int, total_batch: int
) -> Dict[str, DatasetSchedule]:
    """Each arm's schedule by images seen (the recipe's default lengths unless given)."""
    lengths = {**recipe.lengths, **(lengths or {})}
    return {arm: recipe_schedule(recipe, lengths[arm], num_images, total_batch) for arm in ARMS}


def _config_paths(
    out_dir: str,
    name: str,
    base: Optional[str],
    model_name: str,
    norm: str,
    recipe: Recipe,
    schedules: Dict[str, DatasetSchedule],
) -> Dict[str, str]:
    """Each arm's file: named as the pack's arms, or after ``base`` (<its name>_<name>)."""
    if base is not None:
        return {
            arm: osp.join(out_dir, osp.basename(base.format(arm=arm))[:-3] + f'_{name}.py')
            for arm in ARMS
        }
    return {
        arm: osp.join(
            out_dir,
            f'{model_name}-{arm}_fpn_{norm}-all_'
            f'{recipe.name_format.format(schedules[arm].multiple)}_{name}.py',
        )
        for arm in ARMS
    }


def write_pair(
    summary: DatasetSummary,
    out_dir: str,
    name: str,
    depth: int = 50,
    norm: Optional[str] = None,
    gpus: int = 8,
    batch_per_gpu: Optional[int] = 2,
    lengths: Optional[Dict[str, float]] = None,
    schedules: Optional[Dict[str, DatasetSchedule]] = None,
    base: Optional[str] = None,
    checkpoint: Optional[str] = None,
    checkpoint_prefix: Optional[str] = None,
    recipe: str = 'paper',
) -> PairedConfigs:
    """Write ``<out_dir>/<model>-{scratch,pretrained}_..._<name>.py``; never overwrite.

    Each inherits the pack's arm of ``recipe`` for the data ('paper': Mask R-CNN when
    the training file has masks, Faster R-CNN otherwise, GN (default) or SyncBN;
    'lsj': Mask R-CNN with SyncBN, masks required), R50/R101, or ``base`` (a config name
    with ``{arm}``), and sets the dataset, classes, ``num_classes`` and each arm's
    schedule: ``schedules`` as given, else the recipe's in images seen for ``lengths``
    (its unit: the paper's x, LSJ epochs; defaults 3x and 1x, 100 and 25 ep) at
    ``gpus x batch_per_gpu``, with the recipe's LR scaled to that batch (not with
    ``base``: it keeps its own). ``batch_per_gpu=None`` keeps the base's batch and
    needs ``schedules``. ``checkpoint`` replaces the pretrained arm's ImageNet model
    (with ``checkpoint_prefix`` for a classifier's ``backbone.``).
    """
    chosen = RECIPES[recipe]
    algorithm = 'mask' if summary.has_masks else 'box'
    norm = norm or chosen.norm
    if depth not in (50, 101):
        raise PairingError(f'--depth {depth}: the pack has R50 and R101 arms; choose one.')
    custom_base = base is not None
    if not custom_base:
        template = _base_template(chosen, algorithm, norm, summary.train_ann)
        base = template.format(depth=depth, arm='{arm}')
    total_batch = gpus * batch_per_gpu if batch_per_gpu else None
    if schedules is None:
        if not total_batch:
            raise PairingError('the images-seen schedules need the batch: pass batch_per_gpu.')
        schedules = _derived_schedules(chosen, lengths, summary.num_train_images, total_batch)
    model_name = ('mask-rcnn' if algorithm == 'mask' else 'faster-rcnn') + f'_r{depth}'
    paths = _config_paths(
        out_dir, name, base if custom_base else None, model_name, norm, chosen, schedules
    )
    existing = [p for p in paths.values() if osp.exists(p)]
    if existing:
        raise PairingError(f'{existing[0]} exists; pass another --out (nothing is overwritten).')
    lr = _lr(chosen, total_batch, custom_base)
    note = _lr_note(chosen, total_batch, lr)
    os.makedirs(out_dir, exist_ok=True)
    for arm, path in paths.items():
        model = _model_overrides(summary, algorithm, depth, arm, checkpoint, checkpoint_prefix)
        header = (
            f'# Recipe: {chosen.name} (--recipe).\n'
            f'# Schedule: {schedules[arm].derivation}\n# LR: {note}\n'
        )
        schedule = _schedule_text(schedules[arm], lr, total_batch)
        with open(path, 'w') as f:
            f.write(
                _config_text(
                    summary, arm, base.format(arm=arm), header, batch_per_gpu, model, schedule
                )
            )
    return PairedConfigs(paths, schedules, note)


def launch_commands(configs: PairedConfigs, out_dir: str, gpus: int) -> List[str]:
    """How to run both arms with the pack's scripts and with mim."""
    lines = []
    for arm, path in configs.paths.items():
        work_dir = osp.join(out_dir, 'work_dirs', arm)
        lines += [
            f'tools/dist_train.sh {path} {gpus} --work-dir {work_dir}',
            f'GPUS={gpus} tools/slurm_train.sh PARTITION {arm} {path} {work_dir}',
            f'mim train mmrethink {path} --gpus {gpus} --launcher pytorch --work-dir {work_dir}',
        ]
    return lines
