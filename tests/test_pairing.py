"""Issue: "do I need ImageNet pre-training?" on any COCO-format dataset, as one command."""

import glob
import json
import os.path as osp
import re
import shutil
import sys

import pytest
import torch

from helpers import REPO, load_config, run
from mmrethink.analysis.runs import Run
from mmrethink.engine.schedules import COCO_TRAIN_IMAGES, paper_schedule, schedule_for_dataset
from mmrethink.pairing import PairingError, inspect_dataset, pair_summary, regime, write_pair
from mmrethink.utils.preflight import preflight

TOOL = osp.join(REPO, 'tools', 'pair_experiment.py')


def _split(root: str, split: str):
    return (osp.join(root, 'annotations', f'instances_{split}.json'), osp.join(root, split))


def _inspect(root: str, **kwargs):
    return inspect_dataset(*_split(root, 'train'), *_split(root, 'val'), **kwargs)


@pytest.mark.parametrize('multiple', [1, 2, 3, 4, 5, 6, 9])
def test_images_seen_rule_gives_the_packs_schedules_on_coco(multiple):
    derived = schedule_for_dataset(multiple, COCO_TRAIN_IMAGES, 16)
    assert (derived.max_iters, derived.milestones) == paper_schedule(multiple)
    name = {9: 'mask-rcnn_r50-scratch_fpn_gn-all_ms-9x_coco'}.get(
        multiple, f'mask-rcnn_r50-scratch_fpn_gn-all_{multiple}x_coco'
    )
    folder = 'rethinking'
    cfg = load_config(osp.join(REPO, 'configs', folder, f'{name}.py'))
    assert derived.max_iters == cfg.train_cfg.max_iters
    assert list(derived.milestones) == cfg.param_scheduler.milestones
    assert derived.warmup_iters == cfg.param_scheduler.warmup_iters
    assert derived.val_interval == cfg.train_cfg.val_interval
    assert derived.val_interval == cfg.default_hooks.checkpoint.interval


def test_images_seen_rule_for_10k_images_and_why_the_pack_differs():
    """The rule keeps epochs: 10k images get 1x = 7609 iterations. The pack's 10k arms
    run the paper's own, longer, tuned schedules; its less-data README says so."""
    assert schedule_for_dataset(1, 10_000, 16).max_iters == 7609
    assert schedule_for_dataset(3, 10_000, 16).max_iters == 22826
    assert schedule_for_dataset(1, 10_000, 64).max_iters == 1902  # 4x the batch
    pack = load_config(
        osp.join(REPO, 'configs', 'less_data', 'mask-rcnn_r50-pretrained_fpn_gn-all_1x_coco-10k.py')
    )
    assert pack.train_cfg.max_iters == 90_000
    readme = open(osp.join(REPO, 'configs', 'less_data', 'README.md')).read()
    assert '7609' in readme and 'tools/pair_experiment.py' in readme


def test_regime_follows_the_paper():
    assert 'plentiful' in regime(118_287) and 'plentiful' in regime(35_000)
    assert 'borderline' in regime(10_000)
    assert 'scarce' in regime(3_500) and '9.3 vs 16.0' in regime(3_500)


def test_inspection_counts_and_warns(shapes, tmp_path):
    summary = _inspect(shapes)
    assert summary.classes == ['circle', 'triangle', 'square', 'star']
    assert summary.num_train_images == 16 and summary.has_masks
    assert any('very small' in w for w in summary.warnings)
    root = str(tmp_path / 'd')
    shutil.copytree(shapes, root)
    ann, _ = _split(root, 'train')
    coco = json.load(open(ann))
    coco['annotations'] = [
        a for a in coco['annotations'] if a['image_id'] != 1 and a['category_id'] != 4
    ]
    json.dump(coco, open(ann, 'w'))
    warnings = ' '.join(_inspect(root).warnings)
    assert re.search(r'[1-9]\d* of 16 training images have no annotation', warnings)
    assert "classes with no training instance: ['star']" in warnings


@pytest.mark.slow  # four runs of the tool
def test_bad_dataset_fails_before_anything_is_written(shapes, tmp_path):
    out = tmp_path / 'out'
    train_ann, train_images = _split(shapes, 'train')
    val_ann, val_images = _split(shapes, 'val')
    base = [
        sys.executable,
        TOOL,
        '--out',
        str(out),
        '--val-ann',
        val_ann,
        '--val-images',
        val_images,
    ]
    missing = run(base + ['--train-ann', 'nope.json', '--train-images', train_images], check=False)
    assert missing.returncode != 0 and 'nope.json not found: check the path' in missing.stderr
    no_categories = tmp_path / 'nocat.json'
    coco = json.load(open(train_ann))
    json.dump(dict(coco, categories=[]), open(no_categories, 'w'))
    proc = run(
        base + ['--train-ann', str(no_categories), '--train-images', train_images], check=False
    )
    assert proc.returncode != 0 and 'has no categories: a COCO file lists' in proc.stderr
    proc = run(
        base
        + [
            '--train-ann',
            train_ann,
            '--train-images',
            train_images,
            '--classes',
            'circle',
            'hexagon',
        ],
        check=False,
    )
    assert proc.returncode != 0 and "no categories ['hexagon']; pass --classes" in proc.stderr
    proc = run(base + ['--train-ann', train_ann, '--train-images', str(tmp_path)], check=False)
    assert proc.returncode != 0 and 'pass the right image folder' in proc.stderr
    assert not out.exists()


def test_written_configs_load_pass_preflight_and_carry_the_schedules(shapes, tmp_path):
    summary = _inspect(shapes)
    configs = write_pair(summary, str(tmp_path), 'shapes', gpus=1, batch_per_gpu=2)
    assert sorted(map(osp.basename, configs.paths.values())) == [
        'mask-rcnn_r50-pretrained_fpn_gn-all_1x_shapes.py',
        'mask-rcnn_r50-scratch_fpn_gn-all_3x_shapes.py',
    ]
    for arm, path in configs.paths.items():
        cfg = load_config(path)
        cfg.work_dir = str(tmp_path / 'work' / arm)
        preflight(cfg, path, resume=False)  # files, classes, num_classes, images
        derived = schedule_for_dataset(dict(scratch=3, pretrained=1)[arm], 16, 2)
        assert cfg.train_cfg.max_iters == derived.max_iters
        assert cfg.param_scheduler.milestones == list(derived.milestones)
        assert cfg.model.roi_head.mask_head.num_classes == 4
        assert cfg.default_hooks.arm_guard.arm == arm
        assert derived.derivation in open(path).read()
    assert load_config(configs.paths['pretrained']).model.backbone.frozen_stages == 1
    with pytest.raises(PairingError, match='nothing is overwritten'):
        write_pair(summary, str(tmp_path), 'shapes', gpus=1, batch_per_gpu=2)


def test_box_only_data_gets_faster_rcnn(shapes, tmp_path):
    root = str(tmp_path / 'boxes')
    shutil.copytree(shapes, root)
    for split in ('train', 'val'):
        ann, _ = _split(root, split)
        coco = json.load(open(ann))
        for a in coco['annotations']:
            a.pop('segmentation')
        json.dump(coco, open(ann, 'w'))
    configs = write_pair(_inspect(root), str(tmp_path / 'c'), 'boxes', depth=101)
    cfg = load_config(configs.paths['pretrained'])
    assert cfg.model.type == 'FasterRCNN' and cfg.model.backbone.depth == 101
    assert cfg.model.backbone.init_cfg.checkpoint == 'open-mmlab://detectron/resnet101_gn'
    with pytest.raises(PairingError, match='pass --norm gn'):
        write_pair(_inspect(root), str(tmp_path / 'd'), 'boxes', norm='syncbn')


def _run(name, aps):
    return Run(name, [{'iter': 10 * (i + 1), 'coco/bbox_mAP': ap} for i, ap in enumerate(aps)])


def test_summary_says_whether_and_when_scratch_caught_up():
    caught = pair_summary(_run('s', [0.1, 0.3, 0.42]), _run('p', [0.3, 0.38, 0.4]))
    assert "scratch reached the pretrained arm's final box AP (40.0) at iteration 30." in caught
    assert 'gap (pretrained - scratch) at each evaluation: 10: +20.0, 20: +8.0, 30: -2.0' in caught
    behind = pair_summary(_run('s', [0.1, 0.2, 0.15]), _run('p', [0.3, 0.38, 0.4]))
    assert (
        "scratch reached 20.0 of the pretrained arm's 40.0 box AP at best (iteration 20); "
        'it did not catch up within 30 iterations.'
    ) in behind


@pytest.mark.slow
@pytest.mark.parametrize('gpus', [1, 2])  # 2: both arms through tools/dist_train.sh
def test_run_trains_both_arms_and_writes_the_report(gpus, shapes, tmp_path):
    from mmdet.registry import MODELS
    from mmengine.registry import DefaultScope

    base = 'mmrethink::demo/mask-rcnn_r18-mini-{arm}_fpn_gn-all_shapes.py'
    mini = load_config(
        osp.join(REPO, 'configs', 'demo', 'mask-rcnn_r18-mini-scratch_fpn_gn-all_shapes.py')
    )
    with DefaultScope.overwrite_default_scope('mmdet'):
        backbone = MODELS.build(mini.model).backbone
    checkpoint = str(tmp_path / 'backbone.pth')
    torch.save(
        {'state_dict': {f'backbone.{k}': v for k, v in backbone.state_dict().items()}}, checkpoint
    )
    out = str(tmp_path / 'pair')
    proc = run(
        [
            sys.executable,
            TOOL,
            '--train-ann',
            _split(shapes, 'train')[0],
            '--train-images',
            _split(shapes, 'train')[1],
            '--val-ann',
            _split(shapes, 'val')[0],
            '--val-images',
            _split(shapes, 'val')[1],
            '--out',
            out,
            '--gpus',
            str(gpus),
            '--batch-per-gpu',
            '2',
            '--base',
            base,
            '--checkpoint',
            checkpoint,
            '--checkpoint-prefix',
            'backbone.',
            '--scratch-schedule',
            '0.06',
            '--pretrained-schedule',
            '0.04',
            '--run',
            '--cfg-options',
            'model.test_cfg.rcnn.score_thr=0.0',
            'train_dataloader.num_workers=0',
            'train_dataloader.persistent_workers=False',
            'val_dataloader.num_workers=0',
            'val_dataloader.persistent_workers=False',
        ]
    )
    assert 'scarce' in proc.stdout and 'tools/dist_train.sh' in proc.stdout
    report = osp.join(out, 'report')
    for name in ('curves.png', 'curves_images.png', 'samples.png', 'results.md', 'summary.md'):
        assert osp.isfile(osp.join(report, name)), name
    summary = open(osp.join(report, 'summary.md')).read()
    assert '- scratch: box AP' in summary and 'scratch reached' in summary
    for arm in ('scratch', 'pretrained'):
        [config] = glob.glob(osp.join(out, 'configs', f'*-{arm}_*.py'))
        max_iters = load_config(config).train_cfg.max_iters
        with open(osp.join(out, 'work_dirs', arm, 'convergence.jsonl')) as f:
            last = [json.loads(line) for line in f][-1]
        assert last['iter'] == max_iters
        assert last['images'] == max_iters * gpus * 2  # every process's batches counted
