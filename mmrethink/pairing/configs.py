"""The two configs of a paired experiment, written as short diffs on the pack's arms."""

import os
import os.path as osp
from dataclasses import dataclass
from typing import Dict, List, Optional

from mmrethink.engine.hooks.arm_guard_hook import ARMS
from mmrethink.engine.schedules import DatasetSchedule, schedule_for_dataset

from .dataset import DatasetSummary, PairingError, regime

# The pack's arms to inherit, by what the data has (masks or boxes) and the norm.
BASES = {
    ('mask', 'gn'): 'mmrethink::rethinking/mask-rcnn_r{depth}-{arm}_fpn_gn-all_1x_coco.py',
    ('mask', 'syncbn'): 'mmrethink::rethinking/mask-rcnn_r{depth}-{arm}_fpn_syncbn-all_1x_coco.py',
    ('box', 'gn'): 'mmrethink::rethinking/faster-rcnn_r50-{arm}_fpn_gn-all_3x_coco.py',
}
GN_101 = 'open-mmlab://detectron/resnet101_gn'


@dataclass
class PairedConfigs:
    """Paths of the two configs written, and each arm's schedule."""

    paths: Dict[str, str]
    schedules: Dict[str, DatasetSchedule]


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
    schedule: DatasetSchedule,
    batch_per_gpu: Optional[int],
    model: str,
) -> str:
    def split(ann: str, images: str) -> str:
        return (
            f"data_root='', ann_file={ann!r}, data_prefix=dict(img={images!r}), metainfo=metainfo"
        )

    return (
        f'# The {arm} arm of a paired experiment (tools/pair_experiment.py).\n'
        f'# {regime(summary.num_train_images)}\n'
        f'# Schedule: {schedule.derivation}\n'
        f'_base_ = {base!r}\n\n'
        f'metainfo = dict(classes={tuple(summary.classes)!r})\n'
        'train_dataloader = dict('
        + (f'batch_size={batch_per_gpu}, ' if batch_per_gpu else '')
        + f'dataset=dict({split(summary.train_ann, summary.train_images)}))\n'
        f'val_dataloader = dict(dataset=dict({split(summary.val_ann, summary.val_images)}))\n'
        'test_dataloader = val_dataloader\n'
        f'val_evaluator = dict(ann_file={summary.val_ann!r})\n'
        'test_evaluator = val_evaluator\n'
        + model
        + f'train_cfg = dict(max_iters={schedule.max_iters}, '
        f'val_interval={schedule.val_interval})\n'
        f'param_scheduler = dict(milestones={list(schedule.milestones)}, '
        f'warmup_iters={schedule.warmup_iters})\n'
        f'default_hooks = dict(checkpoint=dict(interval={schedule.val_interval}))\n'
    )


def write_pair(
    summary: DatasetSummary,
    out_dir: str,
    name: str,
    depth: int = 50,
    norm: str = 'gn',
    gpus: int = 8,
    batch_per_gpu: Optional[int] = 2,
    multiples: Optional[Dict[str, float]] = None,
    schedules: Optional[Dict[str, DatasetSchedule]] = None,
    base: Optional[str] = None,
    checkpoint: Optional[str] = None,
    checkpoint_prefix: Optional[str] = None,
) -> PairedConfigs:
    """Write ``<out_dir>/<model>-{scratch,pretrained}_..._<name>.py``; never overwrite.

    Each inherits the pack's arm for the data (Mask R-CNN when the training file has
    masks, Faster R-CNN otherwise; R50/R101; GN/SyncBN), or ``base`` (a config name with
    ``{arm}``), and sets the dataset, classes, ``num_classes`` and each arm's schedule:
    ``schedules`` as given, else the paper's rule in images seen for ``multiples``
    (scratch 3x, pretrained 1x by default; ``batch_per_gpu=None`` keeps the base's
    batch and needs ``schedules``). ``checkpoint`` replaces the pretrained arm's
    ImageNet model (with ``checkpoint_prefix`` for a classifier's ``backbone.``).
    """
    algorithm = 'mask' if summary.has_masks else 'box'
    if depth not in (50, 101):
        raise PairingError(f'--depth {depth}: the pack has R50 and R101 arms; choose one.')
    if base is None and (algorithm, norm) not in BASES:
        raise PairingError(
            f"{norm} with box-only data: the pack's Faster R-CNN arms use "
            'GN; pass --norm gn, or masks in the annotation file.'
        )
    custom_base = base is not None
    base = base or BASES[(algorithm, norm)].format(depth=depth, arm='{arm}')
    if schedules is None:
        if not batch_per_gpu:
            raise PairingError('the images-seen schedules need the batch: pass batch_per_gpu.')
        multiples = {'scratch': 3.0, 'pretrained': 1.0, **(multiples or {})}
        schedules = {
            arm: schedule_for_dataset(
                multiples[arm], summary.num_train_images, gpus * batch_per_gpu
            )
            for arm in ARMS
        }
    model_name = ('mask-rcnn' if algorithm == 'mask' else 'faster-rcnn') + f'_r{depth}'
    paths = {
        arm: osp.join(
            out_dir, f'{model_name}-{arm}_fpn_{norm}-all_{schedules[arm].multiple:g}x_{name}.py'
        )
        for arm in ARMS
    }
    if custom_base:  # named after the base: <its name>_<name>.py
        paths = {
            arm: osp.join(out_dir, osp.basename(base.format(arm=arm))[:-3] + f'_{name}.py')
            for arm in ARMS
        }
    existing = [p for p in paths.values() if osp.exists(p)]
    if existing:
        raise PairingError(f'{existing[0]} exists; pass another --out (nothing is overwritten).')
    os.makedirs(out_dir, exist_ok=True)
    for arm, path in paths.items():
        model = _model_overrides(summary, algorithm, depth, arm, checkpoint, checkpoint_prefix)
        with open(path, 'w') as f:
            f.write(
                _config_text(
                    summary, arm, base.format(arm=arm), schedules[arm], batch_per_gpu, model
                )
            )
    return PairedConfigs(paths, schedules)


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
