"""Each arm is the run behind the paper's number: data splits, checkpoints, schedule,
freezing, initialization and optimizer, as Detectron/Detectron2 ran them."""

import glob
import os
import os.path as osp

import pytest
import torch
from mmengine.registry import DefaultScope

from helpers import REPO, build_model, load_config
from mmrethink.engine.hooks.arm_guard_hook import ArmGuardHook, ArmMisconfigured
from mmrethink.engine.schedule_rules import PAPER_RULE
from mmrethink.launching.launch import sync_bn_fallback

CONFIGS = {
    osp.splitext(osp.basename(p))[0]: p
    for p in glob.glob(osp.join(REPO, 'configs', '*', '*.py'))
    if '_base_' not in p
}
VOC = [n for n in CONFIGS if 'voc' in n]


def _voc_tree(root: str) -> None:
    """A tiny VOCdevkit: VOC2012 trainval = train + val, as in the real release."""
    splits = {
        'VOC2007': {'trainval': ['000001', '000002']},
        'VOC2012': {'train': ['2008_000001', '2008_000002'], 'val': ['2008_000003', '2008_000004']},
    }
    splits['VOC2012']['trainval'] = splits['VOC2012']['train'] + splits['VOC2012']['val']
    for year, lists in splits.items():
        base = osp.join(root, year)
        for sub in ('ImageSets/Main', 'Annotations', 'JPEGImages'):
            os.makedirs(osp.join(base, sub), exist_ok=True)
        for split, ids in lists.items():
            with open(osp.join(base, 'ImageSets', 'Main', f'{split}.txt'), 'w') as f:
                f.write('\n'.join(ids) + '\n')
            for img_id in ids:
                with open(osp.join(base, 'Annotations', f'{img_id}.xml'), 'w') as f:
                    f.write(
                        '<annotation><size><width>200</width><height>150</height>'
                        '</size><object><name>dog</name><difficult>0</difficult>'
                        '<bndbox><xmin>10</xmin><ymin>10</ymin><xmax>120</xmax>'
                        '<ymax>100</ymax></bndbox></object></annotation>'
                    )


@pytest.mark.parametrize('name', VOC)
def test_voc_never_evaluates_on_training_images(name, tmp_path):
    """Paper Sec. 5.3: train VOC07 trainval + VOC12 train, evaluate VOC12 val."""
    from mmdet.registry import DATASETS

    root = str(tmp_path / 'VOCdevkit') + '/'
    _voc_tree(root)
    cfg = load_config(CONFIGS[name])
    with DefaultScope.overwrite_default_scope('mmdet'):
        train = cfg.train_dataloader.dataset
        for part in train.datasets:
            part.data_root = root
        train_set = DATASETS.build(train)
        cfg.val_dataloader.dataset.data_root = root
        val_set = DATASETS.build(cfg.val_dataloader.dataset)
    trained = {train_set.get_data_info(i)['img_path'] for i in range(len(train_set))}
    evaluated = {val_set.get_data_info(i)['img_path'] for i in range(len(val_set))}
    assert len(trained) == 4 and len(evaluated) == 2
    assert not trained & evaluated
    assert {osp.basename(p) for p in evaluated} == {'2008_000003.jpg', '2008_000004.jpg'}


@pytest.mark.slow  # parses every leaf config (~0.75 s each)
def test_syncbn_arms_load_torchvisions_imagenet_files_without_torchvision():
    """torchvision's PyPI wheels are CUDA builds whose ops fail to load against the CPU
    torch (``operator torchvision::nms does not exist``), and ``torchvision://`` imports
    it. The arms name the very files mmengine's ``torchvision://resnet50/101`` resolve
    to, by URL, which mmengine loads without torchvision."""
    import mmengine
    from mmengine.fileio import load

    urls = load(osp.join(osp.dirname(mmengine.__file__), 'hub', 'torchvision_0.12.json'))
    for name, path in CONFIGS.items():
        if '-pretrained_' in name and 'syncbn' in name:
            depth = name.split('_')[1][1:].split('-')[0]
            cfg = load_config(path)
            assert cfg.model.backbone.init_cfg.checkpoint == urls[f'resnet{depth}'], name


def _torchvision_layout_file(path: str, depth: int) -> str:
    """An ImageNet BN ResNet as torchvision hosts it: mmdet's ResNet uses torchvision's
    key names (conv1, bn1, layerN.i.convK/bnK, downsample.0/1); the hosted files add the
    classifier (fc) and carry no num_batches_tracked."""
    backbone = build_model(dict(type='ResNet', depth=depth, norm_cfg=dict(type='BN')))
    state = {
        k: v for k, v in backbone.state_dict().items() if not k.endswith('num_batches_tracked')
    }
    state.update({'fc.weight': torch.zeros(1000, 2048), 'fc.bias': torch.zeros(1000)})
    torch.save(state, path)
    return path


def test_guard_accepts_a_torchvision_bn_checkpoint_and_refuses_another_depth(tmp_path):
    cfg = load_config(CONFIGS['mask-rcnn_r50-pretrained_fpn_syncbn-all_1x_coco'])
    sync_bn_fallback(cfg, 'test')
    model = build_model(cfg.model)
    r50 = _torchvision_layout_file(str(tmp_path / 'resnet50.pth'), 50)
    init_cfg = dict(cfg.model.backbone.init_cfg, checkpoint=r50)
    assert ArmGuardHook.checkpoint_coverage(model.backbone, init_cfg) == (1.0, [], [])
    cfg.model.backbone.init_cfg.checkpoint = r50
    runner = type('Runner', (), dict(cfg=cfg, model=model, iter=0))
    ArmGuardHook('pretrained').before_train(runner)
    cfg.model.backbone.depth = 101  # the R101 arm given the R50 file
    runner.model = build_model(cfg.model)
    with pytest.raises(ArmMisconfigured, match='provides only'):
        ArmGuardHook('pretrained').before_train(runner)
    # The R50 arm given the R101 file: every R50 key is there, 17 more blocks too.
    cfg.model.backbone.depth = 50
    runner.model = model
    cfg.model.backbone.init_cfg.checkpoint = _torchvision_layout_file(
        str(tmp_path / 'resnet101.pth'), 101
    )
    with pytest.raises(ArmMisconfigured, match='is of ResNet-101, the backbone is ResNet-50'):
        ArmGuardHook('pretrained').before_train(runner)


@pytest.mark.slow  # parses every leaf config (~0.75 s each)
def test_1x_is_detectrons_and_longer_schedules_drop_at_the_last_60k_and_20k():
    # 1x = 90k at batch 16, drops at 2/3 and 8/9; Nx = N x 90k, drops 60k and 20k before
    # the end.
    for multiple, lengths in {
        1: (90000, (60000, 80000)),
        2: (180000, (120000, 160000)),
        6: (540000, (480000, 520000)),
    }.items():
        schedule = PAPER_RULE.schedule(multiple)
        assert (schedule.max_iters, schedule.milestones) == lengths
    for name, path in CONFIGS.items():
        if '_1x_coco' in name:
            assert load_config(path).param_scheduler.milestones == [60000, 80000], name


@pytest.mark.slow  # parses every leaf config (~0.75 s each)
@pytest.mark.parametrize('name', sorted(n for n in CONFIGS if 'shapes' not in n))
def test_pretrained_arms_freeze_stem_and_res2_scratch_arms_nothing(name):
    cfg = load_config(CONFIGS[name])
    # Detectron FREEZE_AT 2 / 0 (a VGG: conv1 and conv2, its StopGradient after pool2)
    expected = 1 if '-pretrained_' in name else -1
    assert cfg.model.backbone.frozen_stages == expected
    assert not cfg.model.backbone.get('norm_eval', False)  # a VGG has no norms to freeze


def _mini_runner(frozen_stages: int, checkpoint=None):
    """The demo detector with ``frozen_stages``, as ArmGuardHook sees a Runner."""
    cfg = load_config(CONFIGS['mask-rcnn_r18-mini-scratch_fpn_gn-all_shapes'])
    cfg.model.backbone.frozen_stages = frozen_stages
    if checkpoint:
        cfg.model.backbone.init_cfg = dict(type='Pretrained', checkpoint=checkpoint)
    # A fresh run: no resume, so its work dir is never read.
    return type('Runner', (), dict(cfg=cfg, model=build_model(cfg.model), work_dir=None))


def test_guard_lets_the_pretrained_arm_freeze_what_detectron_froze_and_no_more():
    hub = 'open-mmlab://detectron/resnet50_gn'
    ArmGuardHook('pretrained').before_run(_mini_runner(1, hub))  # stem + res2: accepted
    with pytest.raises(ArmMisconfigured, match='frozen_stages=2 .* set it to 1'):
        ArmGuardHook('pretrained').before_run(_mini_runner(2, hub))


def test_initialization_matches_detectron2_component_by_component():
    """Measured std of each part of the full-size R50 GN Mask R-CNN (80 classes)."""
    model = build_model(
        load_config(CONFIGS['mask-rcnn_r50-scratch_fpn_gn-all_3x_coco']).model, init=True
    )

    def std(layer):
        return layer.weight.std().item()

    def msra(conv):  # Kaiming normal, fan_out (torch's: dim 0 x kernel, transposed too)
        return (2 / (conv.weight.shape[0] * conv.weight[0, 0].numel())) ** 0.5

    def c2_xavier(layer):  # Kaiming uniform, a=1, fan_in
        return (1 / layer.weight[0].numel()) ** 0.5

    backbone = model.backbone
    for conv in (backbone.conv1, backbone.layer1[0].conv2, backbone.layer4[2].conv3):
        assert std(conv) == pytest.approx(msra(conv), rel=0.05)
    for conv in (model.neck.lateral_convs[3].conv, model.neck.fpn_convs[0].conv):
        assert std(conv) == pytest.approx(c2_xavier(conv), rel=0.05)
    rpn = model.rpn_head
    for conv in (rpn.rpn_conv, rpn.rpn_cls, rpn.rpn_reg):
        assert std(conv) == pytest.approx(0.01, rel=0.1)
    box, mask = model.roi_head.bbox_head, model.roi_head.mask_head
    conv = box.shared_convs[0].conv
    assert std(conv) == pytest.approx(msra(conv), rel=0.05)
    assert std(box.shared_fcs[0]) == pytest.approx(c2_xavier(box.shared_fcs[0]), rel=0.05)
    assert std(box.fc_cls) == pytest.approx(0.01, rel=0.1)
    assert std(box.fc_reg) == pytest.approx(0.001, rel=0.1)
    for conv in (mask.convs[0].conv, mask.upsample):
        assert std(conv) == pytest.approx(msra(conv), rel=0.05)
    assert std(mask.conv_logits) == pytest.approx(0.001, rel=0.1)
    for layer in (rpn.rpn_conv, box.shared_fcs[0], box.fc_cls, mask.upsample, mask.conv_logits):
        assert layer.bias.abs().max() == 0
    norms = [m for m in model.modules() if isinstance(m, torch.nn.GroupNorm)]
    assert len(norms) == 53 + 8 + 4 + 4  # backbone, FPN, box head, mask head
    assert all(torch.all(m.weight == 1) and torch.all(m.bias == 0) for m in norms)


def test_biases_train_at_twice_the_lr_without_weight_decay():
    """Detectron: SOLVER.BIAS_DOUBLE_LR, no decay on biases; none on GN parameters."""
    from mmengine.optim import build_optim_wrapper

    cfg = load_config(CONFIGS['mask-rcnn_r50-scratch_fpn_gn-all_3x_coco'])
    mini = load_config(CONFIGS['mask-rcnn_r18-mini-scratch_fpn_gn-all_shapes'])
    model = build_model(mini.model)
    with DefaultScope.overwrite_default_scope('mmdet'):
        optim = build_optim_wrapper(model, cfg.optim_wrapper)
    groups = {id(p): g for g in optim.optimizer.param_groups for p in g['params']}

    def lr_wd(param):
        return groups[id(param)]['lr'], groups[id(param)]['weight_decay']

    assert lr_wd(model.rpn_head.rpn_conv.weight) == (0.02, 0.0001)
    assert lr_wd(model.rpn_head.rpn_conv.bias) == (0.04, 0.0)
    assert lr_wd(model.roi_head.bbox_head.fc_cls.bias) == (0.04, 0.0)
    assert lr_wd(model.backbone.gn1.weight) == (0.02, 0.0)


def test_init_keeps_the_msra_everywhere_option():
    cfg = load_config(CONFIGS['mask-rcnn_r18-mini-scratch_fpn_gn-all_shapes'])
    cfg.model.init_cfg = dict(type='Detectron2Init', convs=dict(neck='msra', rpn_head='msra'))
    model = build_model(cfg.model, init=True)
    for conv in (model.neck.lateral_convs[3].conv, model.rpn_head.rpn_conv):
        fan_out = conv.weight.shape[0] * conv.weight[0, 0].numel()
        assert conv.weight.std().item() == pytest.approx((2 / fan_out) ** 0.5, rel=0.1)
    cfg.model.init_cfg = dict(type='Detectron2Init', convs=dict(neck='xavier'))
    with pytest.raises(ValueError, match="unknown conv rules {'neck': 'xavier'}"):
        build_model(cfg.model, init=True)
