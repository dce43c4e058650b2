"""Issue 19: today's from-scratch recipe (Detectron2's LSJ new baselines), paired.

The schedules are Detectron2's numbers, written here literally; each pretrained arm is
its scratch twin but for the backbone's init and freezing; the LSJ pipeline has
MMDetection's crop, resize and pad; the heads' norms are torch's SyncBN (why:
configs/modern/README.md). The grid-wide checks of tests/test_grid.py (full-size build,
one shrunk iteration, hooks, README and metafile listing) cover these leaves too.
"""

import json
import os
import os.path as osp
import socket
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from mmengine.registry import DefaultScope
from test_config_pins import flatten
from test_grid import NAMES, param_shapes

from helpers import REPO, build_model, load_config
from mmrethink.datasets.coco_subset import default_output
from mmrethink.diagnostics.shrink import shrink_model
from mmrethink.launching.batch_scaling import scale_schedule_to_batch, total_batch_size
from mmrethink.launching.launch import sync_bn_fallback
from mmrethink.utils.configs import typed_dicts

MODERN = sorted(n for n, p in NAMES.items() if osp.basename(osp.dirname(p)) == 'modern')
SCRATCH_R50 = 'mask-rcnn_r50-scratch_fpn_syncbn-all_lsj-{}_coco'
GPUS = 8  # x 8 images = Detectron2's total batch 64


def test_the_pairs_are_complete():
    expected = {
        f'mask-rcnn_{depth}-{arm}_fpn_syncbn-all_lsj-{ep}_coco'
        for depth in ('r50', 'r101')
        for arm in ('scratch', 'pretrained')
        for ep in ('100e', '200e', '400e')
    }
    expected |= {f'mask-rcnn_{d}-pretrained_fpn_syncbn-all_lsj-25e_coco' for d in ('r50', 'r101')}
    expected |= {
        f'mask-rcnn_r50-{arm}_fpn_syncbn-all_lsj-100e_coco-{subset}'
        for arm in ('scratch', 'pretrained')
        for subset in ('23657', '10k')
    }
    assert set(MODERN) == expected


# Detectron2 configs/new_baselines at 02b5c4e: mask_rcnn_R_50_FPN_100ep_LSJ.py
# (max_iter 184375, milestones [163889, 177546], warmup_length 500 / max_iter, factor
# 0.067, lr 0.1, weight decay 4e-5, total batch 64; ../common/optim.py momentum 0.9,
# weight_decay_norm 0), and its 200ep / 400ep leaves (max_iter and milestones x 2 / x 4,
# the warm-up fraction kept: 1000 / 2000 iterations).
DETECTRON2 = {
    '100e': (184375, [163889, 177546], 500),
    '200e': (368750, [327778, 355092], 1000),
    '400e': (737500, [655556, 710184], 2000),
}


@pytest.mark.parametrize('epochs', sorted(DETECTRON2))
def test_scratch_r50_schedule_at_batch_64_is_detectron2s(epochs):
    cfg = load_config(NAMES[SCRATCH_R50.format(epochs)])
    assert total_batch_size(cfg, GPUS) == 64
    assert cfg.auto_scale_schedule == dict(enable=False, base_batch_size=64)
    scale_schedule_to_batch(cfg, GPUS)  # the real batch is the base: nothing moves
    max_iters, milestones, warmup = DETECTRON2[epochs]
    assert cfg.train_cfg.type == 'ReplayingIterBasedTrainLoop'
    assert cfg.train_cfg.max_iters == max_iters
    assert cfg.train_cfg.val_interval == 5000  # ../common/train.py eval_period
    scheduler = cfg.param_scheduler
    assert scheduler.type == 'WarmupMultiStepLR' and not scheduler.by_epoch
    assert scheduler.milestones == milestones
    assert scheduler.gamma == 0.1  # values [1.0, 0.1, 0.01]
    assert scheduler.warmup_iters == warmup
    assert scheduler.warmup_factor == 0.067
    assert cfg.optim_wrapper.type == 'OptimWrapper'  # AMP is asked for, not set (CPU)
    assert cfg.optim_wrapper.optimizer == dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=4e-5)
    assert cfg.optim_wrapper.paramwise_cfg == dict(norm_decay_mult=0.0)  # biases as weights
    assert cfg.mixed_precision == dict(enable=True)  # train.amp.enabled = True


def test_lr_follows_detectron2s_warmup_and_steps():
    """Detectron2's WarmupParamScheduler: linear from 0.067 to 1 over the warm-up, then
    MultiStepParamScheduler values [1, 0.1, 0.01] from the milestones on."""
    from mmengine.optim import OptimWrapper

    from mmrethink.engine.schedulers import WarmupMultiStepLR

    cfg = load_config(NAMES[SCRATCH_R50.format('100e')]).param_scheduler
    optim = OptimWrapper(torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1))
    kwargs = {k: v for k, v in cfg.items() if k != 'type'}
    scheduler = WarmupMultiStepLR(optim, **kwargs)
    expected = {
        0: 0.1 * 0.067,
        250: 0.1 * (0.067 + (1 - 0.067) * 0.5),
        500: 0.1,
        163888: 0.1,
        163889: 0.01,
        177545: 0.01,
        177546: 0.001,
    }
    for step, lr in expected.items():
        assert 0.1 * scheduler.factor(step) == pytest.approx(lr), step


def test_auto_scale_schedule_takes_the_recipe_to_batch_16():
    cfg = load_config(NAMES[SCRATCH_R50.format('100e')])
    cfg.train_dataloader.batch_size = 2
    scale_schedule_to_batch(cfg, GPUS)  # 8 GPUs x 2 images: 4x the iterations
    assert cfg.train_cfg.max_iters == 737500
    assert cfg.param_scheduler.milestones == [655556, 710184]
    assert cfg.param_scheduler.warmup_iters == 2000
    assert cfg.train_cfg.val_interval == 20000
    assert cfg.optim_wrapper.optimizer.lr == pytest.approx(0.025)


@pytest.mark.parametrize('depth', ['r50', 'r101'])
def test_25e_is_a_quarter_of_100e_as_detectron2_halves_for_50ep(depth):
    cfg = load_config(NAMES[f'mask-rcnn_{depth}-pretrained_fpn_syncbn-all_lsj-25e_coco'])
    assert cfg.train_cfg.max_iters == 184375 // 4 == 46093
    assert cfg.param_scheduler.milestones == [163889 // 4, 177546 // 4] == [40972, 44386]
    assert cfg.param_scheduler.warmup_iters == round(500 / 184375 * 46093) == 125


# Images-seen rule: as many passes over each image as 100 ep on COCO, at batch 64.
# One fifth of COCO: round(118287 / 5) = 23657 images.
SUBSETS = {
    '23657': (23657, 36874, [32777, 35509], 1000),
    '10k': (10000, 15587, [13855, 15010], 423),
}


@pytest.mark.parametrize('arm', ['scratch', 'pretrained'])
@pytest.mark.parametrize('subset', sorted(SUBSETS))
def test_subset_schedules_keep_the_images_seen_per_image(subset, arm):
    images, max_iters, milestones, interval = SUBSETS[subset]
    cfg = load_config(NAMES[f'mask-rcnn_r50-{arm}_fpn_syncbn-all_lsj-100e_coco-{subset}'])
    assert cfg.train_dataloader.dataset.ann_file == default_output(
        'annotations/instances_train2017.json', images, seed=0
    )  # the file tools/make_coco_subset.py --num-images N --seed 0 writes
    assert (cfg.train_cfg.max_iters, cfg.param_scheduler.milestones) == (max_iters, milestones)
    assert cfg.train_cfg.val_interval == interval
    assert cfg.param_scheduler.warmup_iters == 500
    coco = 184375 * 64 / 118287  # 99.76 passes over train2017 in 100 ep
    assert cfg.train_cfg.max_iters * 64 / images == pytest.approx(coco, rel=1e-4)
    for ours, full in zip(milestones + [interval], [163889, 177546, 5000]):
        assert ours == round(full * images / 118287)


def _twin(name: str) -> str:
    """The scratch arm a pretrained one is compared with (25e: the 100e scratch arm)."""
    return name.replace('-pretrained_', '-scratch_').replace('lsj-25e', 'lsj-100e')


PRETRAINED = [n for n in MODERN if '-pretrained_' in n]
# What may differ between twins: the init and freezing of the backbone, the guard's arm;
# for the 25e arms also the schedule.
INIT = ('model.backbone.init_cfg', 'model.backbone.frozen_stages', 'default_hooks.arm_guard.arm')
SCHEDULE = ('train_cfg.max_iters', 'param_scheduler.milestones', 'param_scheduler.warmup_iters')


@pytest.mark.parametrize('name', PRETRAINED)
def test_pairs_differ_only_in_init_and_freezing(name):
    pretrained = flatten(load_config(NAMES[name]).to_dict())
    scratch = flatten(load_config(NAMES[_twin(name)]).to_dict())
    differ = {k for k in pretrained.keys() | scratch.keys() if pretrained.get(k) != scratch.get(k)}
    allowed = INIT + (SCHEDULE if 'lsj-25e' in name else ())
    assert differ and all(k.startswith(allowed) for k in differ), sorted(differ)
    assert scratch['model.backbone.init_cfg'] is None
    assert (
        scratch['model.backbone.frozen_stages'],
        pretrained['model.backbone.frozen_stages'],
    ) == (
        -1,
        1,
    )
    depth = pretrained['model.backbone.depth']
    assert pretrained['model.backbone.init_cfg.checkpoint'].startswith(
        f'https://download.pytorch.org/models/resnet{depth}-'
    )


@pytest.mark.parametrize('name', MODERN)
def test_lsj_pipeline_and_pad(name):
    cfg = load_config(NAMES[name])
    steps = {s['type']: s for s in cfg.train_dataloader.dataset.pipeline}
    assert list(steps) == [
        'LoadImageFromFile',
        'LoadAnnotations',
        'RandomResize',
        'RandomCrop',
        'FilterAnnotations',
        'RandomFlip',
        'PackDetInputs',
    ]
    assert steps['LoadAnnotations']['with_mask']
    resize = steps['RandomResize']
    assert tuple(resize.scale) == (1024, 1024) and tuple(resize.ratio_range) == (0.1, 2.0)
    assert resize.keep_ratio
    crop = steps['RandomCrop']
    assert crop.crop_type == 'absolute_range' and tuple(crop.crop_size) == (1024, 1024)
    assert crop.recompute_bbox and crop.allow_negative_crop
    assert tuple(steps['FilterAnnotations'].min_gt_bbox_wh) == (1e-2, 1e-2)
    assert steps['RandomFlip'].prob == 0.5
    assert cfg.model.data_preprocessor.batch_augments == [
        dict(type='BatchFixedSizePad', size=(1024, 1024), pad_mask=True)
    ]
    loader = cfg.train_dataloader
    assert loader.sampler.type == 'InfiniteSampler' and loader.batch_sampler is None
    assert loader.batch_size == 8
    test_resize = next(typed_dicts(cfg.test_dataloader, 'Resize'))
    assert tuple(test_resize.scale) == (1333, 800)
    # pytorch-style input in both arms (torchvision's ImageNet models)
    preprocessor = cfg.model.data_preprocessor
    assert preprocessor.mean == [123.675, 116.28, 103.53] and preprocessor.bgr_to_rgb
    assert cfg.model.backbone.style == 'pytorch'


def _categories(shapes: str):
    with open(osp.join(shapes, 'annotations', 'instances_train.json')) as f:
        return tuple(c['name'] for c in json.load(f)['categories'])


def test_lsj_pipeline_runs_on_real_images(shapes):
    """The train pipeline on the synthetic COCO set, then the model's preprocessor:
    crops of at most 1024, boxes inside them, every batch padded to 1024 x 1024."""
    from mmdet.registry import DATASETS, MODELS
    from mmengine.dataset import pseudo_collate

    cfg = load_config(NAMES[SCRATCH_R50.format('100e')])
    dataset_cfg = cfg.train_dataloader.dataset
    dataset_cfg.update(
        data_root=shapes,
        ann_file='annotations/instances_train.json',
        data_prefix=dict(img='train/'),
        metainfo=dict(classes=_categories(shapes)),
    )
    with DefaultScope.overwrite_default_scope('mmdet'):
        dataset = DATASETS.build(dataset_cfg)
        preprocessor = MODELS.build(cfg.model.data_preprocessor)
    torch.manual_seed(0)
    np.random.seed(0)  # mmcv's random transforms draw from numpy
    samples = [dataset[i % len(dataset)] for i in range(8)]
    for sample in samples:
        h, w = sample['inputs'].shape[-2:]
        assert h <= 1024 and w <= 1024
        boxes = sample['data_samples'].gt_instances.bboxes.tensor
        assert (boxes[:, 2:] <= torch.tensor([w, h])).all() and (boxes[:, :2] >= 0).all()
    batch = preprocessor(pseudo_collate(samples[:2]), training=True)
    assert tuple(batch['inputs'].shape[-2:]) == (1024, 1024)
    masks = batch['data_samples'][0].gt_instances.masks
    assert (masks.height, masks.width) == (1024, 1024)


@pytest.mark.slow  # every new leaf built at full size
@pytest.mark.parametrize('name', MODERN)
def test_every_leaf_builds_at_full_size_and_pairs_share_it(name):
    assert param_shapes(name)
    if '-pretrained_' in name:
        assert param_shapes(name) == param_shapes(_twin(name))


def test_heads_use_torch_syncbn_and_norms_get_no_weight_decay():
    """torch's SyncBatchNorm is a _BatchNorm, so norm_decay_mult=0 reaches every norm,
    heads included (Detectron2: weight_decay_norm=0); every other tensor decays. The
    model keeps its SyncBN layers (torch builds them without a process group)."""
    from mmengine.optim import build_optim_wrapper

    cfg = load_config(NAMES[SCRATCH_R50.format('100e')])
    roi = cfg.model.roi_head
    for part in (cfg.model.backbone, cfg.model.neck, roi.bbox_head, roi.mask_head):
        assert part.norm_cfg == dict(type='EmptySafeSyncBN', requires_grad=True)
    assert cfg.model.rpn_head.num_convs == 2 and 'norm_cfg' not in cfg.model.rpn_head
    model = build_model(shrink_model(cfg.model))
    with DefaultScope.overwrite_default_scope('mmdet'):
        optim = build_optim_wrapper(model, cfg.optim_wrapper).optimizer
    decay = {id(p): g['weight_decay'] for g in optim.param_groups for p in g['params']}
    lrs = {g['lr'] for g in optim.param_groups}
    norms = [m for m in model.modules() if isinstance(m, torch.nn.SyncBatchNorm)]
    assert not any(type(m) is torch.nn.BatchNorm2d for m in model.modules())
    for head in (model.roi_head.bbox_head, model.roi_head.mask_head):
        assert any(isinstance(m, torch.nn.SyncBatchNorm) for m in head.modules())
    norm_params = {id(p) for m in norms for p in m.parameters()}
    assert norm_params and all(decay[i] == 0 for i in norm_params)
    assert all(d == 4e-5 for i, d in decay.items() if i not in norm_params)
    assert lrs == {0.1}


def test_a_batch_without_objects_trains_with_the_cpu_fallback():
    """LSJ keeps crops without objects: the mask head then gets no RoI. On CPU (and one
    process) the launcher's BN stands in for SyncBN: the loss is finite, the step is
    taken and the mask head's running statistics are left as they were."""
    from mmdet.testing import demo_mm_inputs
    from mmengine.optim import build_optim_wrapper

    cfg = load_config(NAMES[SCRATCH_R50.format('100e')])
    sync_bn_fallback(cfg, 'test')
    model_cfg = shrink_model(cfg.model)
    model_cfg.data_preprocessor.batch_augments[0].size = (256, 256)  # toy size
    model = build_model(model_cfg, init=True)
    model.train()
    with DefaultScope.overwrite_default_scope('mmdet'):
        optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    mask_norms = [
        m for m in model.roi_head.mask_head.modules() if isinstance(m, torch.nn.BatchNorm2d)
    ]
    before = [(m.running_mean.clone(), m.running_var.clone()) for m in mask_norms]
    packed = demo_mm_inputs(
        2, image_shapes=[(3, 256, 256), (3, 192, 256)], num_items=[0, 0], with_mask=True
    )
    data = model.data_preprocessor(packed, True)
    loss, log_vars = model.parse_losses(model(**data, mode='loss'))
    assert torch.isfinite(loss) and log_vars['loss_mask'] == 0
    optim_wrapper.update_params(loss)
    for m, (mean, var) in zip(mask_norms, before):
        assert torch.equal(m.running_mean, mean) and torch.equal(m.running_var, var)


def test_why_not_mmcv_mmsyncbn_in_the_heads():
    """mmcv 2.1.0's MMSyncBN (a gloo group of one process, in a subprocess): not a
    _BatchNorm, so mmengine's norm_decay_mult=0 does not reach it; no bf16 input; no
    CPU kernel."""
    script = textwrap.dedent(
        """
        import os
        import torch
        import torch.distributed as dist
        os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=os.environ['PORT'])
        dist.init_process_group('gloo', rank=0, world_size=1)
        from mmcv.ops import SyncBatchNorm
        from mmengine.optim import build_optim_wrapper
        model = torch.nn.Sequential(SyncBatchNorm(4, stats_mode='N'), torch.nn.BatchNorm2d(4))
        optim = build_optim_wrapper(model, dict(
            type='OptimWrapper',
            optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=4e-5),
            paramwise_cfg=dict(norm_decay_mult=0.0))).optimizer
        decay = [g['weight_decay'] for g in optim.param_groups]
        def error(x):
            try:
                model[0](x)
            except Exception as e:
                return type(e).__name__ + ': ' + str(e)
        print(decay, '|', error(torch.randn(2, 4, 3, 3).bfloat16()), '|',
              error(torch.randn(2, 4, 3, 3)))
        """
    )
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = str(s.getsockname()[1])
    proc = subprocess.run(
        [sys.executable, '-c', script],
        capture_output=True,
        text=True,
        env=dict(os.environ, PORT=port),
        cwd=REPO,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    decay, bf16, cpu = proc.stdout.strip().splitlines()[-1].split(' | ')
    assert decay == '[4e-05, 4e-05, 0.0, 0.0]'  # MMSyncBN's weight and bias decay
    assert 'only support Half or Float Tensor' in bf16
    assert 'not found' in cpu  # sync_bn_forward_mean_impl has no CPU implementation
