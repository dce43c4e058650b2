"""Issue 19: every experiment tool on the LSJ arms (configs/modern).

Sample accounting, the results table, the curves and the schedule printer, on LSJ
leaves: the tools read the real leaf configs, and the curves and table read the work
dirs of two LSJ leaves trained a few iterations on generated COCO-layout data
(mmrethink/diagnostics/trial.py), as tests/test_users_paths.py trains them.
"""

import json
import os.path as osp
import re
import sys

import numpy as np
import pytest
import yaml
from mmengine.config import Config
from mmengine.registry import DefaultScope

from helpers import REPO, run
from mmrethink.analysis.accounting import image_statistics, train_geometry
from mmrethink.diagnostics.trial import (
    FAMILIES,
    family_config_path,
    make_trial_data,
    trial_config,
    write_trial_config,
)

TOOLS = osp.join(REPO, 'tools')
MODERN = osp.join(REPO, 'configs', 'modern')
SCRATCH_100E = osp.join(MODERN, 'mask-rcnn_r50-scratch_fpn_syncbn-all_lsj-100e_coco.py')
PRETRAINED_25E = osp.join(MODERN, 'mask-rcnn_r50-pretrained_fpn_syncbn-all_lsj-25e_coco.py')
ITERS = 4


def _lsj_crop_area(height: int, width: int, size: int = 1024, ratios=(0.1, 2.0)) -> float:
    """E[crop area] under LSJ, integrated by hand: the long side L = size x r, r uniform;
    the short side a L (a = short / long); the crop keeps min(L, size) x min(a L, size):
    a L^2 up to L = size, then size a L up to L = size / a, then size^2."""
    a = min(height, width) / max(height, width)
    low, high, bend = size * ratios[0], size * ratios[1], size / a

    def integral(x):  # of the area over L from ``low`` to x (x <= high)
        total = a / 3 * (min(x, size) ** 3 - low**3)
        if x > size:
            total += size * a / 2 * (min(x, bend) ** 2 - size**2)
        if x > bend:
            total += size**2 * (x - bend)
        return total

    return integral(high) / (high - low)


def test_pixels_per_image_follow_the_pipeline_lsj_crop_and_ranges():
    """Counted after the 0.1-2.0 x 1024 resize and the 1024 crop, before the pad to
    1024 x 1024 (what ConvergenceHook counts), within 0.1% of the integral (mmcv's
    integer rounding of the scale and the size is the rest)."""
    geometry = train_geometry(Config.fromfile(SCRATCH_100E))
    assert geometry.crop == (1024, 1024)
    for height, width in ((480, 640), (640, 640), (427, 640), (1000, 200)):
        _, pixels = image_statistics(height, width, np.zeros((0, 4)), geometry)
        assert pixels == pytest.approx(_lsj_crop_area(height, width), rel=1e-3)
        assert pixels < 1024 * 1024 * 0.75  # not the padded size
    # The paper's arms are unchanged: one image resized to fit 1333 x 800.
    paper = train_geometry(
        Config.fromfile(
            osp.join(REPO, 'configs', 'rethinking', 'mask-rcnn_r50-scratch_fpn_gn-all_6x_coco.py')
        )
    )
    assert image_statistics(480, 640, np.zeros((0, 4)), paper) == (0.0, 800 * 1067)
    # Train aug, RandomResize between (1333, 640) and (1333, 800): mmcv draws the short
    # side s uniformly, and a 480 x 640 image becomes s x 4s/3: E = 4/3 E[s^2], not the
    # mean of the two ends (0.8% more).
    train_aug = train_geometry(
        Config.fromfile(
            osp.join(
                REPO, 'configs', 'rethinking', 'mask-rcnn_r50-scratch_fpn_gn-all_ms-9x_coco.py'
            )
        )
    )
    _, pixels = image_statistics(480, 640, np.zeros((0, 4)), train_aug)
    assert pixels == pytest.approx(4 / 3 * (800**3 - 640**3) / (3 * 160), rel=1e-3)


# LSJ's square crop, and a (width, height) one of crop_type 'absolute'.
CROPS = [('absolute_range', (64, 64)), ('absolute', (56, 40))]


@pytest.mark.parametrize('crop_type, crop_size', CROPS)
def test_lsj_expectations_match_mmdets_own_transforms(crop_type, crop_size):
    """The expected crop area and instances kept, against 4000 draws of mmdet's own
    RandomResize, RandomCrop (boxes recomputed from the masks) and FilterAnnotations,
    at 1/16 of LSJ's size so that the draws are fast."""
    from mmcv.transforms import Compose
    from mmdet.structures.bbox import HorizontalBoxes
    from mmdet.structures.mask import PolygonMasks

    cfg = Config.fromfile(SCRATCH_100E)
    pipeline = [
        step
        for step in cfg.train_dataloader.dataset.pipeline
        if step['type'] in ('RandomResize', 'RandomCrop', 'FilterAnnotations')
    ]
    pipeline[0]['scale'] = (64, 64)
    pipeline[1].update(crop_type=crop_type, crop_size=crop_size)
    boxes = np.array([[2, 2, 10, 8], [30, 20, 20, 20], [50, 35, 12, 10], [0, 0, 64, 48]], float)
    corners = np.c_[boxes[:, :2], boxes[:, :2] + boxes[:, 2:]]
    polygons = [[np.array([x1, y1, x2, y1, x2, y2, x1, y2], float)] for x1, y1, x2, y2 in corners]

    def sample() -> dict:
        return dict(
            img=np.zeros((48, 64, 3), np.uint8),
            img_shape=(48, 64),
            gt_bboxes=HorizontalBoxes(corners.astype(np.float32)),
            gt_bboxes_labels=np.zeros(len(boxes), np.int64),
            gt_masks=PolygonMasks(polygons, 48, 64),
            gt_ignore_flags=np.zeros(len(boxes), bool),
        )

    with DefaultScope.overwrite_default_scope('mmdet'):
        transforms = Compose(pipeline)
    np.random.seed(0)
    draws = [transforms(sample()) for _ in range(4000)]
    instances = np.array([len(d['gt_bboxes']) for d in draws])
    pixels = np.array([d['img'].shape[0] * d['img'].shape[1] for d in draws])
    geometry = train_geometry(Config(dict(train_dataloader=dict(dataset=dict(pipeline=pipeline)))))
    expected_instances, expected_pixels = image_statistics(48, 64, boxes, geometry)
    assert 0 < instances.mean() < len(boxes)  # the crop drops some
    for drawn, expected in ((instances, expected_instances), (pixels, expected_pixels)):
        assert abs(drawn.mean() - expected) < 4 * drawn.std() / np.sqrt(len(drawn))


def _annotations(path: str) -> str:
    """Two images (480 x 640, 640 x 640), three objects each, in COCO's layout."""
    images = [
        dict(id=1, file_name='a.jpg', height=480, width=640),
        dict(id=2, file_name='b.jpg', height=640, width=640),
    ]
    boxes = [[10, 10, 50, 40], [300, 200, 40, 40], [600, 440, 30, 30]]
    annotations = [
        dict(id=3 * i + j, image_id=i, category_id=1, bbox=box, area=box[2] * box[3], iscrowd=0)
        for i in (1, 2)
        for j, box in enumerate(boxes)
    ]
    with open(path, 'w') as f:
        json.dump(
            dict(images=images, annotations=annotations, categories=[dict(id=1, name='a')]), f
        )
    return path


def _row(stdout: str, name: str, kind: str) -> list:
    row = re.search(rf'\| {re.escape(name)} \| {kind} \| ([^|]+) \| ([^|]+) \|', stdout)
    return [float(row[1]), float(row[2])]


@pytest.mark.slow
def test_count_samples_on_lsj_leaves(tmp_path):
    ann = _annotations(str(tmp_path / 'instances.json'))
    proc = run(
        [
            sys.executable,
            osp.join(TOOLS, 'count_samples.py'),
            PRETRAINED_25E,
            SCRATCH_100E,
            '--ann-file',
            ann,
            '--out',
            str(tmp_path / 's'),
        ]
    )
    pixels = (_lsj_crop_area(480, 640) + _lsj_crop_area(640, 640)) / 2
    scratch = 'mask-rcnn_r50-scratch_fpn_syncbn-all_lsj-100e_coco'
    pretrained = 'mask-rcnn_r50-pretrained_fpn_syncbn-all_lsj-25e_coco'
    # Batch 64 (the leaves' base_batch_size): 184375 and 46093 iterations.
    assert _row(proc.stdout, scratch, 'images') == [0, pytest.approx(184375 * 64, rel=1e-3)]
    assert _row(proc.stdout, pretrained, 'images') == [
        pytest.approx(1.28e8),
        pytest.approx(46093 * 64, rel=1e-3),
    ]
    line = re.search(
        rf'{scratch}: ([\d.]+) instances and ([\d.e+]+) pixels per training image, '
        r"after RandomResize \{'scale': \(1024, 1024\), 'ratio_range': \(0.1, 2.0\)\}, "
        r'then RandomCrop 1024 x 1024 \(its expected area; instances whose box overlaps it\); '
        'before batch padding',
        proc.stdout,
    )
    assert float(line[2]) == pytest.approx(pixels, rel=1e-3)
    assert 2 < float(line[1]) < 3  # of 3 per image: the crop drops some
    assert _row(proc.stdout, scratch, 'pixels')[1] == pytest.approx(184375 * 64 * pixels, rel=1e-2)
    assert osp.isfile(str(tmp_path / 's.png'))


@pytest.mark.slow
def test_print_config_schedule_on_lsj_leaves():
    tool = [sys.executable, osp.join(TOOLS, 'misc', 'print_config.py'), '--schedule']
    out = run(tool + [SCRATCH_100E, PRETRAINED_25E]).stdout
    assert (
        'scratch: max_iters=184375, LR drops at [163889, 177546], warm-up 500, lr=0.1, '
        'total batch 64, evaluation every 5000' in out
    )
    assert 'pretrained: max_iters=46093, LR drops at [40972, 44386], warm-up 125' in out
    scaled = run(
        tool
        + ['--auto-scale-schedule', '--gpus', '8', '--cfg-options', 'train_dataloader.batch_size=2']
        + ['--', SCRATCH_100E]
    ).stdout
    assert (
        'max_iters=737500, LR drops at [655556, 710184], warm-up 2000, lr=0.025, '
        'total batch 16, evaluation every 20000' in scaled
    )


def test_published_lsj_numbers_are_the_modern_readmes():
    """reference_results.yml holds the scratch arms' numbers the README quotes (D2:
    Detectron2's MODEL_ZOO.md new baselines; MMDet: its strong baselines), for configs
    that exist; no pretrained LSJ arm has a published number."""
    with open(osp.join(REPO, 'mmrethink', 'analysis', 'reference_results.yml')) as f:
        results = yaml.safe_load(f)['results']
    readme = open(osp.join(MODERN, 'README.md')).read()
    lsj = {name: sources for name, sources in results.items() if '_lsj-' in name}
    assert len(lsj) == 6 and all('-scratch_' in name for name in lsj)
    for name, sources in lsj.items():
        assert osp.isfile(osp.join(MODERN, f'{name}.py')), name
        row = next(line for line in readme.splitlines() if f'({"./" + name}.py)' in line)
        cell = row.split(f'({"./" + name}.py)')[1].split('|')[0]
        assert f'{sources["detectron2"]["box"]} / {sources["detectron2"]["mask"]} (D2)' in cell
        if 'mmdet' in sources:
            assert f'{sources["mmdet"]["box"]} / {sources["mmdet"]["mask"]} (MMDet)' in cell


@pytest.fixture(scope='module')
def lsj_runs(tmp_path_factory) -> dict:
    """Work dirs of the R50 100e LSJ leaves, scratch and pretrained, each trained
    ITERS iterations (evaluated every 2) through tools/train.py on generated data."""
    root = tmp_path_factory.mktemp('lsj')
    data = make_trial_data(str(root / 'data'))
    work_dirs = {}
    for family in ('lsj-scratch', 'lsj-pretrained'):
        config = family_config_path(family)
        cfg = trial_config(config, data, iters=ITERS, checkpoint_dir=str(root / 'checkpoints'))
        cfg.train_cfg.val_interval = 2
        path = write_trial_config(cfg, config, str(root / 'configs'))
        work_dirs[family] = str(root / family)
        run([sys.executable, osp.join(TOOLS, 'train.py'), path, '--work-dir', work_dirs[family]])
    return work_dirs


@pytest.mark.slow
@pytest.mark.xdist_group('lsj_runs')
def test_results_table_knows_the_lsj_arms(lsj_runs):
    assert FAMILIES['lsj-scratch'].endswith('r50-scratch_fpn_syncbn-all_lsj-100e_coco.py')
    tool = [sys.executable, osp.join(TOOLS, 'results_table.py'), *lsj_runs.values()]
    for source, quoted in (('detectron2', (44.6, 40.3)), ('mmdet', (44.7, 40.4))):
        out = run(tool + ['--source', source]).stdout
        scratch = next(line for line in out.splitlines() if '-scratch_' in line)
        cells = [c.strip() for c in scratch.split('|')[1:-1]]
        assert cells[0] == 'mask-rcnn_r50-scratch_fpn_syncbn-all_lsj-100e_coco'
        assert cells[1] == str(ITERS)
        assert (float(cells[4]), float(cells[5])) == quoted
        assert float(cells[6]) == pytest.approx(float(cells[2]) - quoted[0], abs=0.11)
        pretrained = next(line for line in out.splitlines() if '-pretrained_' in line)
        assert pretrained.split('|')[5].strip() == '—'  # nobody published one
        assert 'New baselines using Large-Scale Jitter' in out or 'strong_baselines' in out


@pytest.mark.slow
@pytest.mark.xdist_group('lsj_runs')
def test_plot_curves_on_lsj_runs(lsj_runs, tmp_path):
    stem = str(tmp_path / 'curves')
    run(
        [sys.executable, osp.join(TOOLS, 'plot_curves.py'), *lsj_runs.values()]
        + ['--x', 'images', '--out', stem]
    )
    svg = open(stem + '.svg').read()
    for name in ('scratch', 'pretrained'):
        assert svg.count(f'mask-rcnn_r50-{name}_fpn_syncbn-all_lsj-100e_coco') == 2  # box, mask
    assert 'images seen' in svg
    for work_dir in lsj_runs.values():
        with open(osp.join(work_dir, 'convergence.jsonl')) as f:
            records = [json.loads(line) for line in f]
        assert [r['iter'] for r in records] == [2, ITERS]
        assert records[-1]['images'] == ITERS * 2  # batch 2, one process
        assert 'coco/bbox_mAP' in records[-1] and 'coco/segm_mAP' in records[-1]


@pytest.mark.slow
def test_a_written_lsj_pair_trains_with_the_guard(shapes, tmp_path):
    """tools/pair_experiment.py's LSJ pretrained arm, shrunk, trains and evaluates; the
    guard checks its (generated) ImageNet-layout checkpoint covers the backbone."""
    from mmrethink.pairing import inspect_dataset, write_pair

    splits = [
        osp.join(shapes, *parts)
        for parts in (
            ('annotations', 'instances_train.json'),
            ('train',),
            ('annotations', 'instances_val.json'),
            ('val',),
        )
    ]
    configs = write_pair(inspect_dataset(*splits), str(tmp_path), 'shapes', gpus=1, recipe='lsj')
    config = configs.paths['pretrained']
    cfg = trial_config(config, shapes, iters=ITERS, checkpoint_dir=str(tmp_path / 'checkpoints'))
    path = write_trial_config(cfg, config, str(tmp_path / 'trial'))
    work_dir = str(tmp_path / 'work')
    proc = run([sys.executable, osp.join(TOOLS, 'train.py'), path, '--work-dir', work_dir])
    assert (
        'ArmGuardHook: the checkpoint provided 100.0% of the backbone' in proc.stdout + proc.stderr
    )
    with open(osp.join(work_dir, 'convergence.jsonl')) as f:
        [record] = [json.loads(line) for line in f]
    assert record['iter'] == ITERS and 'coco/segm_mAP' in record
