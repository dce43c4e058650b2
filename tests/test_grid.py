"""Issue: the experiment grid, schedules, initializer and guard."""

import copy
import glob
import os.path as osp
import re
import sys
from functools import lru_cache
from types import SimpleNamespace
from typing import Tuple

import pytest
import torch
from mmengine.registry import DefaultScope

from helpers import REPO, build_model, load_config, run
from mmrethink.diagnostics.shrink import shrink_model
from mmrethink.engine.hooks.arm_guard_hook import (
    MAX_FROZEN_STAGES,
    ArmGuardHook,
    ArmMisconfigured,
    frozen_or_eval_layers,
    frozen_stage_prefixes,
)
from mmrethink.engine.schedule_rules import PAPER_RULE
from mmrethink.launching.batch_scaling import scale_schedule_to_batch
from mmrethink.launching.launch import sync_bn_fallback
from mmrethink.utils.configs import typed_dicts

LEAVES = sorted(
    p
    for p in glob.glob(osp.join(REPO, 'configs', '*', '*.py'))
    if '_base_' not in p and 'classifier' not in p
)
NAMES = {osp.splitext(osp.basename(p))[0]: p for p in LEAVES}


@lru_cache(maxsize=None)
def param_shapes(name: str) -> Tuple:
    """Build a config's full-size model once; keep only its parameter shapes."""
    cfg = load_config(NAMES[name])
    sync_bn_fallback(cfg, 'test')  # SyncBN layers cannot be built without a process group
    model = build_model(cfg.model)
    may_freeze = frozen_stage_prefixes(
        MAX_FROZEN_STAGES[cfg.default_hooks.arm_guard.arm], model.backbone
    )
    frozen = frozen_or_eval_layers(model)
    assert all(n.startswith(may_freeze) for n in frozen), (name, frozen[:5])
    assert bool(frozen) == ('-pretrained_' in name), name  # stem + res2 in pretrained arms
    return tuple((k, tuple(v.shape)) for k, v in model.state_dict().items())


def test_grid_is_complete():
    expected = [
        f'mask-rcnn_{d}-{arm}_fpn_{norm}-all_{n}x_coco'
        for d in ('r50', 'r101')
        for norm in ('gn', 'syncbn')
        for arm in ('scratch', 'pretrained')
        for n in range(1, 7)
    ]
    expected += [
        f'faster-rcnn_r50-{arm}_fpn_gn-all_{n}x_coco'
        for arm in ('scratch', 'pretrained')
        for n in (3, 6)
    ]
    expected += [
        'mask-rcnn_r50-scratch_fpn_gn-all_ms-9x_coco',
        'mask-rcnn_r101-scratch_fpn_gn-all_ms-9x_coco',
        'mask-rcnn_r50-pretrained_fpn_gn-all_ms-6x_coco',
        'mask-rcnn_r101-pretrained_fpn_gn-all_ms-6x_coco',
        'mask-rcnn_x152-32x8d-scratch_fpn_gn-all_ms-9x_coco',
        'cascade-mask-rcnn_x152-32x8d-scratch_fpn_gn-all_ms-9x_coco',
        'faster-rcnn_r101-scratch_fpn_gn-all_ms-144k_voc0712',
        'faster-rcnn_r101-pretrained_fpn_gn-all_ms-18k_voc0712',
    ]
    for tag in ('10k', '3-5k', '1k'):
        expected += [
            f'mask-rcnn_r50-scratch_fpn_gn-all_3x_coco-{tag}',
            f'mask-rcnn_r50-pretrained_fpn_gn-all_1x_coco-{tag}',
        ]
    expected += [
        f'mask-rcnn_r50-{arm}_fpn_gn-all_ms-512-800-6x_coco-35k'
        for arm in ('scratch', 'pretrained')
    ]
    expected += [
        f'faster-rcnn_vgg16-{arm}_ms-{n}x_coco'
        for arm in ('scratch', 'pretrained')
        for n in (9, 11)
    ]
    assert not set(expected) - set(NAMES)


@pytest.mark.slow  # every config built at full size
@pytest.mark.parametrize('name', sorted(NAMES))
def test_config_builds_and_freezes_only_what_its_arm_may(name):
    assert param_shapes(name)


def _twin(name: str) -> str:
    """The scratch config of a pretrained one: same name but the arm (and, where the
    paper trains the arms for different lengths, the schedule)."""
    exact = name.replace('-pretrained_', '-scratch_')
    if exact in NAMES:
        return exact
    parts = exact.split('_')  # {algo}_{backbone}_{neck}_{norm}_{schedule}_{data}
    parts = [re.escape(p) for p in parts]
    parts[4] = re.sub(r'\\?\d+[kxe]$', '', parts[4]) + r'\d+[kxe]'
    pattern = '_'.join(parts)
    matches = [n for n in NAMES if re.fullmatch(pattern, n)]
    assert matches, f'no scratch twin for {name}'
    return sorted(matches)[0]


@pytest.mark.slow  # every config built at full size
@pytest.mark.parametrize('name', sorted(n for n in NAMES if '-pretrained_' in n))
def test_paired_arms_share_the_architecture(name):
    assert param_shapes(name) == param_shapes(_twin(name))


def _multiple(name: str):
    m = re.search(r'_(?:ms-(?:512-800-)?)?(\d+)x_', name)
    return int(m[1]) if m else None


@pytest.mark.slow  # parses every leaf config (~0.75 s each)
@pytest.mark.parametrize('name', sorted(n for n in NAMES if 'coco' in n and '_lsj-' not in n))
def test_schedules_follow_the_paper_rule(name):  # LSJ arms: tests/test_modern.py
    cfg = load_config(NAMES[name])
    n = _multiple(name)
    expected = PAPER_RULE.schedule(n)
    assert cfg.train_cfg.max_iters == expected.max_iters
    assert tuple(cfg.param_scheduler.milestones) == expected.milestones
    assert cfg.param_scheduler.type == 'WarmupMultiStepLR'
    assert cfg.optim_wrapper.optimizer.lr == (0.04 if '35k' in name else 0.02)
    assert cfg.optim_wrapper.paramwise_cfg.norm_decay_mult == 0


def test_paper_rule_values():
    # Nx = N x 90k iterations at batch 16; 1x drops at 2/3 and 8/9 (60k, 80k), longer
    # schedules at the last 60k and 20k (N x 90k - 60k, N x 90k - 20k).
    assert PAPER_RULE.schedule(1).milestones == (60000, 80000)  # Detectron's 1x
    assert PAPER_RULE.schedule(2).milestones == (120000, 160000)
    assert PAPER_RULE.schedule(3).milestones == (210000, 250000)
    assert PAPER_RULE.length_rule(6, 90_000) == (540000, (480000, 520000))
    assert PAPER_RULE.length_rule(9, 90_000) == (810000, (750000, 790000))
    # A 1x of 90 and of 12 iterations: 3 x 90 = 270, 270 - 60 and 270 - 20; 12 x 2/3 = 8
    # and 12 x 8/9 = 10.7.
    assert PAPER_RULE.length_rule(3, 90) == (270, (210, 250))
    assert PAPER_RULE.length_rule(1, 12) == (12, (8, 11))


def test_auto_scale_schedule_keeps_images_seen():
    cfg = load_config(NAMES['mask-rcnn_r50-scratch_fpn_gn-all_ms-9x_coco'])
    scale_schedule_to_batch(cfg, world_size=32)  # 32 GPUs x 2 images = 64
    assert cfg.train_cfg.max_iters == 202500
    assert cfg.param_scheduler.milestones == [187500, 197500]
    assert cfg.param_scheduler.warmup_iters == 125
    assert cfg.train_cfg.val_interval == 2500
    assert cfg.default_hooks.checkpoint.interval == 2500
    assert cfg.optim_wrapper.optimizer.lr == pytest.approx(0.08)
    halved = load_config(NAMES['mask-rcnn_r50-scratch_fpn_gn-all_2x_coco'])
    scale_schedule_to_batch(halved, world_size=4)  # batch 8: twice the iterations
    assert (halved.train_cfg.max_iters, halved.param_scheduler.milestones) == (
        360000,
        [240000, 320000],
    )
    assert halved.optim_wrapper.optimizer.lr == pytest.approx(0.01)
    mmengine_pair = load_config(NAMES['mask-rcnn_r50-scratch_fpn_gn-all_2x_coco'])
    mmengine_pair.param_scheduler = [
        dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=500),
        dict(
            type='MultiStepLR',
            by_epoch=False,
            begin=0,
            end=1_000_000_000,  # mmengine INF
            milestones=[120000, 160000],
        ),
    ]
    scale_schedule_to_batch(mmengine_pair, world_size=32)
    assert mmengine_pair.param_scheduler[0].end == 125
    assert mmengine_pair.param_scheduler[1].end == 1_000_000_000  # "until the end" stays
    assert mmengine_pair.param_scheduler[1].milestones == [30000, 40000]


def test_auto_scale_schedule_refuses_double_lr_scaling():
    cfg = load_config(NAMES['mask-rcnn_r50-scratch_fpn_gn-all_2x_coco'])
    cfg.auto_scale_lr.enable = True
    with pytest.raises(ValueError, match='scaled twice'):
        scale_schedule_to_batch(cfg, world_size=4)


def test_warmup_multistep_lr_values():
    from mmengine.optim import OptimWrapper

    from mmrethink.engine.schedulers import WarmupMultiStepLR

    param = torch.nn.Parameter(torch.zeros(1))
    optim = OptimWrapper(torch.optim.SGD([param], lr=0.02))
    scheduler = WarmupMultiStepLR(
        optim, milestones=[10, 15], warmup_iters=4, warmup_factor=1 / 3, by_epoch=False
    )
    lrs = []
    for _ in range(20):
        lrs.append(optim.get_lr()['lr'][0])
        optim.step()
        scheduler.step()
    assert lrs[0] == pytest.approx(0.02 / 3)
    assert lrs[2] == pytest.approx(0.02 * (1 / 3 + (2 / 3) * 0.5))
    assert lrs[4:10] == pytest.approx([0.02] * 6)
    assert lrs[10:15] == pytest.approx([0.002] * 5)
    assert lrs[15:] == pytest.approx([0.0002] * 5)


def _mini_detector(**init_kwargs):
    cfg = load_config(
        osp.join(REPO, 'configs', 'demo', 'mask-rcnn_r18-mini-scratch_fpn_gn-all_shapes.py')
    )
    cfg.model.init_cfg.update(init_kwargs)
    return cfg, build_model(cfg.model, init=True)


def test_init_zero_init_last_norm_only_when_asked():
    _, model = _mini_detector()
    assert torch.all(model.backbone.layer1[0].norm2.weight == 1)
    _, model = _mini_detector(zero_init_last_norm=True)
    assert torch.all(model.backbone.layer1[0].norm2.weight == 0)


def test_init_keeps_a_pretrained_backbone(tmp_path):
    cfg, source = _mini_detector()
    checkpoint = str(tmp_path / 'backbone.pth')
    torch.save(
        {'state_dict': {f'backbone.{k}': v for k, v in source.backbone.state_dict().items()}},
        checkpoint,
    )
    cfg.model.backbone.init_cfg = dict(type='Pretrained', checkpoint=checkpoint, prefix='backbone.')
    model = build_model(cfg.model, init=True)
    for key, value in source.backbone.state_dict().items():
        assert torch.equal(model.backbone.state_dict()[key], value), key


def _fake_runner(cfg, model):
    """A fresh run (no resume: its work dir is never read), as ArmGuardHook sees it."""
    cfg.resume = False
    return SimpleNamespace(cfg=cfg, model=model, iter=0, work_dir=None)


def test_guard_refuses_scratch_with_weights_or_frozen_layers(tmp_path):
    cfg, model = _mini_detector()
    guard = ArmGuardHook('scratch')
    guard.before_run(_fake_runner(copy.deepcopy(cfg), model))  # the real config passes
    bad = copy.deepcopy(cfg)
    bad.load_from = 'somebody_elses.pth'
    with pytest.raises(ArmMisconfigured, match='load_from'):
        guard.before_run(_fake_runner(bad, model))
    bad = copy.deepcopy(cfg)
    bad.model.backbone.init_cfg = dict(type='Pretrained', checkpoint='x.pth')
    with pytest.raises(ArmMisconfigured, match=r'model\.backbone\.init_cfg'):
        guard.before_run(_fake_runner(bad, model))
    bad = copy.deepcopy(cfg)
    bad.model.backbone.frozen_stages = 1
    frozen = build_model(bad.model)
    with pytest.raises(ArmMisconfigured, match='frozen_stages=1 .* set it to -1'):
        guard.before_run(_fake_runner(bad, frozen))
    bad = copy.deepcopy(cfg)
    bad.model.backbone.norm_cfg = dict(type='BN')
    bad.model.backbone.norm_eval = True
    with pytest.raises(ArmMisconfigured, match='norm_eval=True'):
        guard.before_run(_fake_runner(bad, build_model(bad.model)))


def test_guard_refuses_pretrained_whose_checkpoint_does_not_exist(tmp_path):
    """Checkpoints that exist but do not fit (narrower, deeper, the other arm's) are
    refused through tools/train.py in tests/test_users_paths.py."""
    cfg, source = _mini_detector()
    cfg.model.backbone.init_cfg = dict(
        type='Pretrained', prefix='backbone.', checkpoint=str(tmp_path / 'missing.pth')
    )
    with pytest.raises(ArmMisconfigured, match='does not exist'):
        ArmGuardHook('pretrained').before_run(_fake_runner(cfg, source))


FAMILIES = [
    'mask-rcnn_r50-scratch_fpn_gn-all_1x_coco',
    'mask-rcnn_r50-pretrained_fpn_syncbn-all_1x_coco',
    'faster-rcnn_r50-scratch_fpn_gn-all_3x_coco',
    'keypoint-rcnn_r50-scratch_fpn_gn-all_2x_coco-person-keypoints',
    'mask-rcnn_x152-32x8d-scratch_fpn_gn-all_ms-9x_coco',
    'cascade-mask-rcnn_x152-32x8d-scratch_fpn_gn-all_ms-9x_coco',
    'mask-rcnn_r50-scratch_fpn_gn-all_ms-512-800-6x_coco-35k',
    'faster-rcnn_r101-scratch_fpn_gn-all_ms-144k_voc0712',
    'mask-rcnn_r18-mini-scratch_fpn_gn-all_shapes',
    'faster-rcnn_vgg16-pretrained_ms-9x_coco',
]


def _one_iteration_shrunk(name: str) -> None:
    """Build the config's model at toy width and train it one step with its optimizer."""
    from mmdet.testing import demo_mm_inputs
    from mmengine.optim import build_optim_wrapper

    cfg = load_config(NAMES[name])
    sync_bn_fallback(cfg, 'test')
    model_cfg = shrink_model(cfg.model)
    # No download: the arm's checkpoint is not the point.
    model_cfg.backbone.init_cfg = None
    for head in typed_dicts(model_cfg, 'VGGFCBBoxHead'):
        head.fcs_init_cfg = None
    model = build_model(model_cfg, init=True)
    model.train()
    with DefaultScope.overwrite_default_scope('mmdet'):
        optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    head = model_cfg.roi_head.bbox_head
    num_classes = (head[0] if isinstance(head, list) else head).num_classes
    packed = demo_mm_inputs(
        2,
        image_shapes=[(3, 128, 160), (3, 96, 128)],
        num_items=[3, 2],
        num_classes=max(num_classes, 2),  # demo_mm_inputs draws labels from [1, n)
        with_mask=True,
    )
    for sample in packed['data_samples']:
        sample.gt_instances.labels.clamp_(max=num_classes - 1)
    keypoint_head = model_cfg.roi_head.get('keypoint_head')
    if keypoint_head:  # keypoints inside each box, all visible
        for sample in packed['data_samples']:
            boxes = sample.gt_instances.bboxes
            at = torch.rand(len(boxes), keypoint_head.num_keypoints, 2)
            xy = boxes[:, None, :2] + at * (boxes[:, None, 2:] - boxes[:, None, :2])
            sample.gt_instances.keypoints = torch.cat([xy, torch.full_like(xy[..., :1], 2)], -1)
    data = model.data_preprocessor(packed, True)
    loss, log_vars = model.parse_losses(model(**data, mode='loss'))
    assert torch.isfinite(loss)
    assert ('loss_mask' in log_vars or 's0.loss_mask' in log_vars) == bool(
        model_cfg.roi_head.get('mask_head')
    )
    assert ('loss_keypoint' in log_vars) == bool(keypoint_head)
    optim_wrapper.backward(loss)
    weight = [p for p in model.backbone.parameters() if p.dim() == 4][-1]  # trained in both arms
    assert weight.grad is not None and weight.grad.abs().sum() > 0
    before = weight.detach().clone()
    optim_wrapper.step()
    assert not torch.equal(before, weight.detach())


@pytest.mark.parametrize('name', FAMILIES)
def test_family_trains_one_iteration_shrunk(name):
    _one_iteration_shrunk(name)


@pytest.mark.slow  # every config, shrunk
@pytest.mark.parametrize('name', sorted(NAMES))
def test_every_config_trains_one_iteration_shrunk(name):
    _one_iteration_shrunk(name)


@pytest.mark.slow  # parses every leaf config (~0.75 s each)
@pytest.mark.parametrize('name', sorted(NAMES))
def test_every_arm_runs_the_pack_hooks(name):
    hooks = load_config(NAMES[name]).default_hooks
    assert hooks.convergence.type == 'ConvergenceHook'
    assert hooks.finite_loss.type == 'FiniteLossHook'
    assert hooks.arm_guard == dict(
        type='ArmGuardHook', arm='pretrained' if '-pretrained_' in name else 'scratch'
    )


@pytest.mark.slow
def test_print_config_shows_each_arms_schedule():
    tool = [sys.executable, osp.join(REPO, 'tools', 'misc', 'print_config.py'), '--schedule']
    out = run(
        tool
        + [
            NAMES['mask-rcnn_r50-scratch_fpn_gn-all_ms-9x_coco'],
            NAMES['mask-rcnn_r50-pretrained_fpn_gn-all_2x_coco'],
        ]
    ).stdout
    assert (
        'scratch: max_iters=810000, LR drops at [750000, 790000], warm-up 500, lr=0.02, '
        'total batch 16' in out
    )
    assert 'pretrained: max_iters=180000, LR drops at [120000, 160000]' in out
    scaled = run(
        tool
        + [
            '--auto-scale-schedule',
            '--gpus',
            '32',
            NAMES['mask-rcnn_r50-scratch_fpn_gn-all_ms-9x_coco'],
        ]
    ).stdout
    assert (
        'max_iters=202500, LR drops at [187500, 197500], warm-up 125, lr=0.08, '
        'total batch 64' in scaled
    )


@pytest.mark.parametrize(
    'path', LEAVES + [p for p in glob.glob(osp.join(REPO, 'configs', 'demo', 'classifier*.py'))]
)
def test_every_config_is_in_its_readme_and_metafile(path):
    folder, name = osp.dirname(path), osp.splitext(osp.basename(path))[0]
    assert f'{name}.py' in open(osp.join(folder, 'README.md')).read()
    assert (
        f'Config: configs/{osp.basename(folder)}/{name}.py'
        in open(osp.join(folder, 'metafile.yml')).read()
    )
    index = open(osp.join(REPO, 'model-index.yml')).read()
    assert f'configs/{osp.basename(folder)}/metafile.yml' in index
