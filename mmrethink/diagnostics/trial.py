"""A few iterations of any arm on generated data, as users launch it.

One leaf per arm family (model, normalization, initialization, dataset), its config
pointed at a generated set laid out as the real one (COCO's train2017/val2017 with
four COCO class names, a VOCdevkit with four VOC classes), so the leaf's own dataset
types, annotation files, classes, pipelines, hooks, optimizer and schedule types run
unchanged. What changes: the schedule's length (a few iterations), the image size and,
with ``shrink``, the model's width; a pretrained arm gets a backbone checkpoint made
here in the layout of the file it names (torchvision's or OpenMMLab's). The tests run
these through ``tools/dist_train.sh`` and ``tools/slurm_train.sh``;
``tools/check_gpu.py`` runs them at full width on GPUs.
"""

import copy
import json
import os
import os.path as osp
from typing import Optional

import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

from mmrethink.datasets import make_detection_set, make_keypoint_set, make_voc_set
from mmrethink.datasets.coco_check import load_coco
from mmrethink.datasets.coco_subset import make_subset
from mmrethink.launching.launch import SYNC_NORMS
from mmrethink.utils.configs import (
    DATALOADERS,
    as_list,
    backbone_checkpoint,
    is_checkpoint_init,
    read_config,
    typed_dicts,
    walk,
)
from mmrethink.utils.package_files import CONFIGS

from .shrink import shrink_images, shrink_model

# One leaf of each family: scratch and pretrained x GN and SyncBN x Mask and Faster
# R-CNN (Faster R-CNN has GN arms only), Keypoint R-CNN (COCO person keypoints), train
# aug, X152 and Cascade, less data, VOC, today's recipe (LSJ, SyncBN, configs/modern) and
# VGG-16 without normalization (each arm at its best length in the paper).
FAMILIES = {
    'mask-gn-scratch': 'rethinking/mask-rcnn_r50-scratch_fpn_gn-all_1x_coco.py',
    'mask-gn-pretrained': 'rethinking/mask-rcnn_r50-pretrained_fpn_gn-all_1x_coco.py',
    'mask-syncbn-scratch': 'rethinking/mask-rcnn_r50-scratch_fpn_syncbn-all_1x_coco.py',
    'mask-syncbn-pretrained': 'rethinking/mask-rcnn_r50-pretrained_fpn_syncbn-all_1x_coco.py',
    'faster-gn-scratch': 'rethinking/faster-rcnn_r50-scratch_fpn_gn-all_3x_coco.py',
    'faster-gn-pretrained': 'rethinking/faster-rcnn_r50-pretrained_fpn_gn-all_3x_coco.py',
    'keypoint-gn-scratch': (
        'rethinking/keypoint-rcnn_r50-scratch_fpn_gn-all_2x_coco-person-keypoints.py'
    ),
    'train-aug-scratch': 'rethinking/mask-rcnn_r50-scratch_fpn_gn-all_ms-9x_coco.py',
    'cascade-x152-scratch': (
        'rethinking/cascade-mask-rcnn_x152-32x8d-scratch_fpn_gn-all_ms-9x_coco.py'
    ),
    'less-data-pretrained': 'less_data/mask-rcnn_r50-pretrained_fpn_gn-all_1x_coco-10k.py',
    'voc-pretrained': 'voc/faster-rcnn_r101-pretrained_fpn_gn-all_ms-18k_voc0712.py',
    'lsj-scratch': 'modern/mask-rcnn_r50-scratch_fpn_syncbn-all_lsj-100e_coco.py',
    'lsj-pretrained': 'modern/mask-rcnn_r50-pretrained_fpn_syncbn-all_lsj-100e_coco.py',
    'vgg-scratch': 'rethinking/faster-rcnn_vgg16-scratch_ms-11x_coco.py',
    'vgg-pretrained': 'rethinking/faster-rcnn_vgg16-pretrained_ms-9x_coco.py',
}
# The shapes are the first four classes of COCO (all 80 are in the file, as in COCO's)
# and of VOC.
VOC_NAMES = ('aeroplane', 'bicycle', 'bird', 'boat')
# The data roots the pack's configs read.
COCO_ROOT, VOC_ROOT = 'data/coco/', 'data/VOCdevkit/'
TORCHVISION_HOST = 'download.pytorch.org'
DATASET_TYPES = ('CocoDataset', 'CocoKeypointDataset', 'VOCDataset')


def family_config_path(family: str) -> str:
    """The leaf of ``family``, from a checkout or from the installed package."""
    local = osp.join(CONFIGS, FAMILIES[family])
    return local if osp.isfile(local) else f'mmrethink::{FAMILIES[family]}'


def make_trial_data(root: str, num_train: int = 16, num_val: int = 8) -> str:
    """Generated COCO and VOC sets at ``root/coco`` and ``root/VOCdevkit``; the COCO
    folder also holds a person keypoint set (``person_keypoints_*.json``)."""
    from mmdet.datasets import CocoDataset

    coco, names = osp.join(root, 'coco'), CocoDataset.METAINFO['classes']
    make_detection_set(coco, num_train, seed=0, split='train2017', class_names=names)
    make_detection_set(coco, num_val, seed=1, split='val2017', class_names=names)
    make_keypoint_set(coco, num_train, seed=3, split='train2017')
    make_keypoint_set(coco, num_val, seed=4, split='val2017')
    splits = dict(VOC2007=dict(trainval=num_train // 2), VOC2012=dict(train=num_train // 2))
    splits['VOC2012']['val'] = num_val
    make_voc_set(osp.join(root, 'VOCdevkit'), splits, seed=2, class_names=VOC_NAMES)
    return root


def _repoint(path: str, data_root: str) -> str:
    """A path under the pack's data roots, moved under ``data_root``."""
    for original, generated in ((COCO_ROOT, 'coco/'), (VOC_ROOT, 'VOCdevkit/')):
        if path.startswith(original):
            return osp.join(data_root, generated, path[len(original) :])
    return path


def _point_at(cfg: Config, data_root: str) -> None:
    for split in DATALOADERS:
        for dataset in typed_dicts(cfg[split], *DATASET_TYPES):
            dataset['data_root'] = _repoint(dataset['data_root'], data_root)
            ann_file = osp.join(dataset['data_root'], dataset['ann_file'])
            if dataset['type'] == 'CocoDataset' and not osp.isfile(ann_file):
                _write_subset(ann_file)
    for split in ('val_evaluator', 'test_evaluator'):
        evaluator = cfg.get(split)
        if isinstance(evaluator, dict) and evaluator.get('ann_file'):
            evaluator['ann_file'] = _repoint(evaluator['ann_file'], data_root)


def _write_subset(ann_file: str) -> None:
    """A less-data leaf's subset file (``..._10k_seed0.json``): a seeded half of the
    generated training set, drawn by the same code as tools/make_coco_subset.py."""
    full = osp.join(osp.dirname(ann_file), 'instances_train2017.json')
    coco = load_coco(full)
    subset = make_subset(coco, max(1, len(coco['images']) // 2), seed=0)
    with open(ann_file, 'w') as f:
        json.dump(subset, f)


def _empty_odd_images(dataset: dict) -> None:
    """Read a copy of the annotations in which every second image has no object, in
    order and unfiltered: with 2 processes, rank 1's batches then hold no ground truth
    (mmengine's samplers deal indices ``rank::world_size``), so its mask head gets no
    RoIs while rank 0's does, the case SyncBN in the heads must survive."""
    source = osp.join(dataset['data_root'], dataset['ann_file'])
    coco = load_coco(source)
    empty = {im['id'] for im in coco['images'][1::2]}
    coco['annotations'] = [a for a in coco['annotations'] if a['image_id'] not in empty]
    target = source.replace('.json', '_odd-empty.json')
    with open(target, 'w') as f:
        json.dump(coco, f)
    dataset['ann_file'] = osp.relpath(target, dataset['data_root'])
    dataset['filter_cfg'] = dict(dataset.get('filter_cfg') or {}, filter_empty_gt=False)


def _short_schedule(cfg: Config, iters: int, checkpoint_interval: int) -> None:
    cfg.train_cfg.update(max_iters=iters, val_interval=iters)
    cfg.train_cfg.pop('dynamic_intervals', None)
    schedulers = cfg.param_scheduler
    for scheduler in as_list(schedulers):
        if 'warmup_iters' in scheduler:
            scheduler.warmup_iters = min(scheduler.warmup_iters, 2)
        if 'milestones' in scheduler:
            scheduler.milestones = [iters // 2, iters - 1]
    cfg.default_hooks.checkpoint.interval = checkpoint_interval
    cfg.default_hooks.logger.interval = 1
    cfg.log_processor.window_size = 1  # each iteration's own loss and time, not a mean


def _torchvision_classifier(cfg: Config, state: dict) -> dict:
    """The ImageNet classifier a torchvision file of ``cfg``'s backbone carries: a
    ResNet's ``fc``; a VGG's fc6, fc7 and class layer (``classifier.0/3/6``), fc6 and
    fc7 at the widths of the detector's box head, which loads them."""
    if cfg.model.backbone.type != 'VGGBody':
        channels = state['layer4.0.conv1.weight'].shape[1] * 2  # layer4's output
        return {'fc.weight': torch.zeros(1000, channels), 'fc.bias': torch.zeros(1000)}
    head = cfg.model.roi_head.bbox_head
    fc6_in, hidden = head.in_channels * head.roi_feat_size**2, head.fc_out_channels
    shapes = {'0': (hidden, fc6_in), '3': (hidden, hidden), '6': (1000, hidden)}
    classifier = {}
    for index, shape in shapes.items():
        classifier[f'classifier.{index}.weight'] = torch.randn(shape) * 0.01
        classifier[f'classifier.{index}.bias'] = torch.randn(shape[0]) * 0.01
    return classifier


def make_backbone_checkpoint(cfg: Config, path: str) -> str:
    """A randomly initialized backbone of ``cfg`` saved in the layout of the file its
    pretrained arm names: torchvision's (bare state dict, no ``num_batches_tracked``,
    with the ImageNet classifier, :func:`_torchvision_classifier`) or OpenMMLab's
    (``{'state_dict': ...}``)."""
    from mmdet.registry import MODELS

    init_cfg = backbone_checkpoint(cfg.model)
    backbone_cfg = copy.deepcopy(cfg.model.backbone)
    backbone_cfg.pop('init_cfg', None)
    for norm_cfg in typed_dicts(backbone_cfg, *SYNC_NORMS):
        norm_cfg.update(type='BN')  # the same tensors; SyncBN needs a process group
    with DefaultScope.overwrite_default_scope('mmdet'):
        backbone = MODELS.build(backbone_cfg)
    state = backbone.state_dict()
    if init_cfg and TORCHVISION_HOST in init_cfg['checkpoint']:
        state = {k: v for k, v in state.items() if not k.endswith('num_batches_tracked')}
        state.update(_torchvision_classifier(cfg, state))
        torch.save(state, path)
    else:
        torch.save(dict(state_dict=state), path)
    return path


def trial_config(
    config: str,
    data_root: str,
    iters: int = 6,
    checkpoint_interval: int = 2,
    shrink: bool = True,
    batch_size: int = 2,
    num_workers: int = 0,
    short_side: int = 128,
    checkpoint_dir: Optional[str] = None,
    empty_rank: bool = False,
) -> Config:
    """``config`` on the data of :func:`make_trial_data`, ``iters`` iterations long,
    evaluated at its end, checkpointed every ``checkpoint_interval``; with ``shrink``
    at toy width and ``short_side``-pixel images. A pretrained arm's backbone file is
    made in ``checkpoint_dir``. With ``empty_rank`` (COCO families), images are drawn
    in order and every second one has no object (:func:`_empty_odd_images`)."""
    cfg = read_config(config)
    _point_at(cfg, data_root)
    if empty_rank:
        [dataset] = typed_dicts(cfg.train_dataloader, 'CocoDataset')
        _empty_odd_images(dataset)
        cfg.train_dataloader.sampler.shuffle = False
    if shrink:
        cfg.model = shrink_model(cfg.model)
        shrink_images(cfg, short_side)
    _short_schedule(cfg, iters, checkpoint_interval)
    # After a few iterations every score is below the usual 0.05: keep all detections,
    # so the evaluation has something to match.
    cfg.model.test_cfg.rcnn.score_thr = 0.0
    for split in DATALOADERS:
        cfg[split].update(
            batch_size=batch_size if split == 'train_dataloader' else 1,
            num_workers=num_workers,
            persistent_workers=num_workers > 0,
        )
    init_cfg = backbone_checkpoint(cfg.model)
    if init_cfg is not None:
        os.makedirs(checkpoint_dir, exist_ok=True)
        target = osp.join(checkpoint_dir, f'{osp.splitext(osp.basename(config))[0]}_backbone.pth')
        loads = [v for _, v in walk(cfg.model) if v is not init_cfg and is_checkpoint_init(v)]
        init_cfg['checkpoint'] = make_backbone_checkpoint(cfg, target)
        for other in loads:  # the VGG head's fc6/fc7: from the same ImageNet file
            other['checkpoint'] = init_cfg['checkpoint']
    return cfg


def write_trial_config(cfg: Config, config: str, out_dir: str) -> str:
    """Write ``cfg`` under the leaf's own file name (what work dirs are checked by)."""
    os.makedirs(out_dir, exist_ok=True)
    path = osp.join(out_dir, osp.basename(config.split('::')[-1]))
    cfg.dump(path)
    return path
