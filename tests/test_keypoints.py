"""Keypoint R-CNN (issue 27): the paper's keypoint pair, its modules and its data.

The leaves resolve to the paper's settings; keypoints go through mmdet's real
transforms and come out where the image went; the metric gives pycocotools' own
numbers; bad keypoint input stops before training with the fix; and a short CPU
training on generated stick figures learns keypoints an untrained head cannot find.
"""

import copy
import glob
import json
import os.path as osp
import sys

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import Compose
from mmengine.registry import init_default_scope
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from helpers import REPO, build_model, convergence, load_config, run
from mmrethink.datasets import make_keypoint_set
from mmrethink.datasets.coco_check import CocoDatasetError
from mmrethink.datasets.coco_keypoints import COCO_FLIP_INDICES, COCO_KEYPOINT_SIGMAS
from mmrethink.diagnostics.trial import trial_config, write_trial_config
from mmrethink.evaluation import CocoKeypointMetric
from mmrethink.launching.preflight import PreflightError, preflight
from mmrethink.models import KeypointRCNNHead

RETHINKING = osp.join(REPO, 'configs', 'rethinking')
TRAIN = osp.join(REPO, 'tools', 'train.py')
TEST = osp.join(REPO, 'tools', 'test.py')
LEAF = 'keypoint-rcnn_r50-{arm}_fpn_gn-all_{n}x_coco-person-keypoints.py'
# The paper's recipe (He et al. 2019, Sec. 4 and 5; RECIPE.md): Nx = N x 90k iterations
# at batch 16, LR drops at the last 60k and 20k.
SCHEDULES = {2: (180000, [120000, 160000]), 3: (270000, [210000, 250000])}


def leaf(arm: str, n: int) -> Config:
    return load_config(osp.join(RETHINKING, LEAF.format(arm=arm, n=n)))


@pytest.mark.parametrize('arm', ['scratch', 'pretrained'])
@pytest.mark.parametrize('n', [2, 3])
def test_keypoint_leaves_resolve_to_the_papers_settings(arm, n):
    cfg = leaf(arm, n)
    model, roi = cfg.model, cfg.model.roi_head
    # Detectron2 config/defaults.py ROI_KEYPOINT_HEAD (POOLER_RESOLUTION 14,
    # NUM_KEYPOINTS 17, CONV_DIMS 8 x 512) and keypoint_head.py (x2 deconv, x2 bilinear).
    assert (model.type, roi.type) == ('KeypointRCNN', 'KeypointRoIHead')
    assert roi.keypoint_roi_extractor.roi_layer.output_size == 14
    head = roi.keypoint_head
    assert (head.num_keypoints, head.num_convs, head.conv_out_channels) == (17, 8, 512)
    assert head.get('norm_cfg') is None  # the config says why
    # One class, no mask branch (Detectron's e2e_keypoint_rcnn configs).
    assert roi.bbox_head.num_classes == 1 and roi.mask_head is None
    # GN (32 groups) in backbone, FPN and box head (paper Sec. 4).
    gn = dict(type='GN', num_groups=32, requires_grad=True)
    assert model.backbone.norm_cfg == gn == model.neck.norm_cfg == roi.bbox_head.norm_cfg
    # Schedule and optimizer (paper Sec. 4): lr 0.02, momentum 0.9, wd 1e-4, batch 16.
    assert (cfg.train_cfg.max_iters, cfg.param_scheduler.milestones) == SCHEDULES[n]
    assert (cfg.optim_wrapper.optimizer.lr, cfg.optim_wrapper.optimizer.momentum) == (0.02, 0.9)
    assert cfg.optim_wrapper.optimizer.weight_decay == 1e-4
    assert cfg.train_dataloader.batch_size * 8 == 16
    # Data: COCO person keypoints, short side 800 (max 1333), flip only.
    train = cfg.train_dataloader.dataset
    assert (train.type, train.ann_file) == (
        'CocoKeypointDataset',
        'annotations/person_keypoints_train2017.json',
    )
    assert [t['type'] for t in train.pipeline] == [
        'LoadImageFromFile',
        'LoadKeypointAnnotations',
        'Resize',
        'RandomFlip',
        'PackKeypointDetInputs',
    ]
    assert train.pipeline[2]['scale'] == (1333, 800) and train.pipeline[3]['prob'] == 0.5
    assert cfg.val_evaluator.type == 'CocoKeypointMetric'
    assert cfg.val_evaluator.metric[0] == 'keypoints'
    assert cfg.val_evaluator.ann_file.endswith('person_keypoints_val2017.json')
    # The arms: pretrained loads Detectron's GN ImageNet R50 and freezes stem + res2.
    if arm == 'pretrained':
        assert model.backbone.init_cfg == dict(
            type='Pretrained', checkpoint='open-mmlab://detectron/resnet50_gn'
        )
        assert model.backbone.frozen_stages == 1
    else:
        assert model.backbone.init_cfg is None and model.backbone.frozen_stages == -1


@pytest.mark.parametrize('n', [2, 3])
def test_the_arms_differ_only_in_the_backbones_start_and_the_guard(n):
    scratch, pretrained = leaf('scratch', n).to_dict(), leaf('pretrained', n).to_dict()
    for cfg in (scratch, pretrained):
        cfg['model']['backbone'].pop('init_cfg')
        cfg['model']['backbone'].pop('frozen_stages')
        cfg['default_hooks'].pop('arm_guard')
    assert scratch == pretrained


# --- the data pipeline -------------------------------------------------------------

FLIP = [0, 2, 1]  # a nose and a left/right pair


def _results(keypoints, size=(100, 200)):
    """One image's loaded-sample dict as CocoKeypointDataset gives it."""
    h, w = size
    return dict(
        img=np.zeros((h, w, 3), np.uint8),
        img_shape=(h, w),
        ori_shape=(h, w),
        img_id=1,
        img_path='x.png',
        flip_indices=FLIP,
        instances=[
            dict(bbox=[10, 10, 60, 60], bbox_label=0, ignore_flag=0, keypoints=kp)
            for kp in keypoints
        ],
    )


def _pipeline(*steps):
    init_default_scope('mmdet')
    load = dict(type='LoadKeypointAnnotations', with_bbox=True)
    return Compose([load, *steps, dict(type='PackKeypointDetInputs')])


def test_resize_flip_and_crop_move_keypoints_with_the_image():
    # COCO pixel indices; the loader puts them at pixel centres (+0.5).
    keypoints = [[30, 20, 2, 40, 30, 1, 20, 30, 2], [0, 0, 0, 10, 10, 2, 50, 40, 2]]
    resized = _pipeline(dict(type='Resize', scale=(400, 200), keep_ratio=True))(_results(keypoints))
    got = resized['data_samples'].gt_instances.keypoints.numpy()
    centred = np.array(keypoints, np.float32).reshape(2, 3, 3)
    centred[..., :2] = np.where(centred[..., 2:] > 0, centred[..., :2] + 0.5, 0)
    np.testing.assert_allclose(got[..., :2], centred[..., :2] * 2)  # 100x200 -> 200x400
    np.testing.assert_allclose(got[..., 2], centred[..., 2])

    flipped = _pipeline(dict(type='RandomFlip', prob=1.0))(_results(keypoints))
    got = flipped['data_samples'].gt_instances.keypoints.numpy()
    # x -> 200 - x, and the left/right pair trades places (flip map [0, 2, 1]).
    assert got[0].tolist() == [[200 - 30.5, 20.5, 2], [200 - 20.5, 30.5, 2], [200 - 40.5, 30.5, 1]]
    assert got[1, 0].tolist() == [0, 0, 0]  # unlabeled stays unlabeled

    # A 35 x 35 crop at a random offset (read back from the recorded homography):
    # keypoints move with it, those outside it become unlabeled.
    meta_keys = ('img_id', 'img_path', 'ori_shape', 'img_shape', 'homography_matrix')
    crop = _pipeline(dict(type='RandomCrop', crop_size=(35, 35), allow_negative_crop=True))
    crop.transforms[-1].meta_keys = meta_keys
    np.random.seed(0)
    for _ in range(4):
        sample = crop(_results(keypoints))['data_samples']
        offset = -sample.metainfo['homography_matrix'][:2, 2]
        got = sample.gt_instances.keypoints.numpy()
        for points, loaded in zip(got, centred):
            for point, (x, y, v) in zip(points, loaded):
                x, y = x - offset[0], y - offset[1]
                inside = v > 0 and 0 <= x < 35 and 0 <= y < 35
                assert point.tolist() == ([x, y, v] if inside else [0, 0, 0])


def test_a_crop_that_drops_an_instance_drops_its_keypoints():
    keypoints = [[30, 20, 2, 40, 30, 2, 20, 30, 2], [150, 50, 2, 160, 60, 2, 170, 70, 2]]
    results = _results(keypoints)
    results['instances'][1]['bbox'] = [140, 40, 190, 90]
    results['img'] = np.zeros((100, 200, 3), np.uint8)
    crop = dict(type='RandomCrop', crop_size=(100, 100))
    packed = _pipeline(crop)
    torch.manual_seed(0)
    np.random.seed(1)  # an offset of 0..100 in x: which instance survives varies
    for _ in range(5):
        gt = packed(copy.deepcopy(results))['data_samples'].gt_instances
        assert len(gt.keypoints) == len(gt.bboxes)
        for box, points in zip(gt.bboxes.numpy(), gt.keypoints.numpy()):
            labeled = points[points[:, 2] > 0]
            assert ((labeled[:, 0] >= box[0] - 1) & (labeled[:, 0] <= box[2] + 1)).all()


def test_a_flip_map_of_the_wrong_length_is_refused_when_loading():
    results = _results([[30, 20, 2, 40, 30, 1, 20, 30, 2]])
    results['flip_indices'] = [0, 1]
    with pytest.raises(ValueError, match='flip map has 2 entries'):
        _pipeline()(results)


# --- the head ----------------------------------------------------------------------


def test_heatmap_targets_and_decoding_agree():
    """A one-hot heatmap at each keypoint's target cell decodes back to within the
    cell of the keypoint (56 cells over a 112-pixel box: 2 pixels)."""
    boxes = torch.tensor([[10.0, 20.0, 122.0, 132.0]])
    keypoints = torch.tensor([[[30.3, 40.9, 2], [121.9, 131.0, 1], [5.0, 50.0, 2], [60, 60, 0]]])
    targets, valid = KeypointRCNNHead.heatmap_targets(boxes, keypoints, 56)
    assert valid.tolist() == [[True, True, False, False]]  # outside; unlabeled
    assert targets[0, 0].item() == 10 * 56 + 10  # ((40.9-20)/2, (30.3-10)/2) floored
    logits = torch.full((1, 4, 56 * 56), -20.0)
    logits[0, torch.arange(4), targets[0]] = 20.0
    decoded = KeypointRCNNHead.decode(logits.view(1, 4, 56, 56), boxes[0:1])
    assert (decoded[0, :2, :2] - keypoints[0, :2, :2]).abs().max() <= 2.0


def test_keypoint_loss_is_cross_entropy_over_positions_per_visible_keypoint():
    head = KeypointRCNNHead(num_keypoints=2, in_channels=4, num_convs=1, conv_out_channels=4)
    heatmaps = torch.randn(3, 2, 8, 8)
    targets = torch.randint(0, 64, (3, 2))
    valid = torch.tensor([[True, False], [True, True], [False, False]])
    loss = head.loss(heatmaps, targets, valid)['loss_keypoint']
    by_hand = [
        -torch.log_softmax(heatmaps[i, k].flatten(), 0)[targets[i, k]]
        for i in range(3)
        for k in range(2)
        if valid[i, k]
    ]
    assert torch.allclose(loss, torch.stack(by_hand).mean())
    # The config's loss_weight scales it (the learning test trains at 1.0 only).
    half = KeypointRCNNHead(
        num_keypoints=2, in_channels=4, num_convs=1, conv_out_channels=4, loss_weight=0.5
    )
    assert torch.allclose(half.loss(heatmaps, targets, valid)['loss_keypoint'], loss * 0.5)


# --- the metric --------------------------------------------------------------------

SIGMAS = [0.05, 0.08, 0.08]  # not COCO's: the metric must take the dataset's


def _gt_file(path: str) -> str:
    person = dict(id=1, name='person', keypoints=['nose', 'left', 'right'], skeleton=[])
    people = [  # image, box, keypoints (COCO pixel indices)
        (1, [10, 10, 40, 80], [30, 20, 2, 40, 30, 2, 20, 30, 1]),
        (1, [60, 5, 30, 60], [75, 15, 2, 85, 25, 2, 0, 0, 0]),
        (2, [20, 20, 50, 50], [45, 30, 2, 55, 40, 1, 35, 40, 2]),
    ]
    anns = [
        dict(
            id=i + 1,
            image_id=image,
            category_id=1,
            bbox=box,
            area=box[2] * box[3] * 0.6,
            iscrowd=0,
            keypoints=kps,
            num_keypoints=sum(v > 0 for v in kps[2::3]),
        )
        for i, (image, box, kps) in enumerate(people)
    ]
    images = [dict(id=i, file_name=f'{i}.png', height=100, width=120) for i in (1, 2)]
    with open(path, 'w') as f:
        json.dump(dict(images=images, annotations=anns, categories=[person]), f)
    return path


# Detections per image: box (x0, y0, x1, y1), score, keypoints at pixel centres (the
# model's coordinates: COCO's + 0.5), some off by a few pixels, one false positive.
DETECTIONS = {
    1: [
        ([10, 10, 50, 90], 0.9, [[30.5, 21.5, 1], [41, 30.5, 1], [22, 31, 1]]),
        ([60, 5, 90, 65], 0.8, [[76.5, 16.5, 1], [84, 27, 1], [70, 40, 1]]),
        ([0, 50, 30, 90], 0.3, [[10, 60, 1], [20, 70, 1], [5, 70, 1]]),
    ],
    2: [([20, 20, 70, 70], 0.7, [[47, 31, 1], [54.5, 44, 1], [35.5, 40.5, 1]])],
}


def test_keypoint_metric_gives_pycocotools_own_numbers(tmp_path):
    ann_file = _gt_file(str(tmp_path / 'gt.json'))
    metric = CocoKeypointMetric(ann_file=ann_file)
    metric.dataset_meta = dict(classes=('person',), sigmas=SIGMAS)
    samples = [
        dict(
            img_id=image,
            ori_shape=(100, 120),
            pred_instances=dict(
                bboxes=torch.tensor([d[0] for d in dets], dtype=torch.float32),
                scores=torch.tensor([d[1] for d in dets]),
                labels=torch.zeros(len(dets), dtype=torch.long),
                keypoints=torch.tensor([d[2] for d in dets]),
            ),
        )
        for image, dets in DETECTIONS.items()
    ]
    metric.process({}, samples)
    ours = metric.evaluate(size=len(samples))

    # pycocotools on its own: COCO keypoint results are pixel indices (x - 0.5).
    gt = COCO(ann_file)
    results = [
        dict(
            image_id=image,
            category_id=1,
            score=score,
            keypoints=[c for x, y, s in kps for c in (x - 0.5, y - 0.5, s)],
        )
        for image, dets in DETECTIONS.items()
        for _, score, kps in dets
    ]
    evaluation = COCOeval(gt, gt.loadRes(results), 'keypoints')
    evaluation.params.kpt_oks_sigmas = np.array(SIGMAS)
    evaluation.evaluate()
    evaluation.accumulate()
    evaluation.summarize()
    names = ['mAP', 'mAP_50', 'mAP_75', 'mAP_m', 'mAP_l', 'AR', 'AR_50', 'AR_75', 'AR_m', 'AR_l']
    assert [ours[f'coco/keypoints_{n}'] for n in names] == list(evaluation.stats)
    assert list(ours)[0] == 'coco/keypoints_mAP'  # what save_best='auto' keeps
    assert 0 < ours['coco/keypoints_mAP'] < 1 and 'coco/bbox_mAP' in ours
    # The sigmas are the dataset's: COCO's would give another number.
    evaluation = COCOeval(gt, gt.loadRes(results), 'keypoints')
    evaluation.params.kpt_oks_sigmas = np.array(COCO_KEYPOINT_SIGMAS[:3])
    evaluation.evaluate()
    evaluation.accumulate()
    evaluation.summarize()
    assert evaluation.stats[0] != ours['coco/keypoints_mAP']


# --- bad input stops before training ------------------------------------------------

KEYPOINT_LEAF = osp.join(RETHINKING, LEAF.format(arm='scratch', n=2))


def _trial(trial_data, tmp_path) -> Config:
    cfg = trial_config(KEYPOINT_LEAF, trial_data, iters=2)
    cfg.work_dir = str(tmp_path / 'work')
    return cfg


def test_the_generated_keypoint_set_passes_the_checks(trial_data, tmp_path):
    preflight(_trial(trial_data, tmp_path), KEYPOINT_LEAF, resume=False)


def test_an_annotation_file_without_keypoints_is_refused(trial_data, tmp_path):
    cfg = _trial(trial_data, tmp_path)
    cfg.train_dataloader.dataset.ann_file = 'annotations/instances_train2017.json'
    cfg.train_dataloader.dataset.metainfo = dict(classes=('person',))
    with pytest.raises(CocoDatasetError, match="'person' lists no keypoints.*person_keypoints"):
        preflight(cfg, KEYPOINT_LEAF, resume=False)


def test_a_keypoint_count_other_than_the_heads_is_refused(trial_data, tmp_path):
    cfg = _trial(trial_data, tmp_path)
    cfg.model.roi_head.keypoint_head.num_keypoints = 5
    with pytest.raises(PreflightError, match='predicts 5 keypoints.*has 17.*num_keypoints to 17'):
        preflight(cfg, KEYPOINT_LEAF, resume=False)


def test_a_flip_map_of_the_wrong_length_is_refused(trial_data, tmp_path):
    cfg = _trial(trial_data, tmp_path)
    cfg.train_dataloader.dataset.metainfo = dict(flip_indices=list(COCO_FLIP_INDICES[:15]))
    with pytest.raises(CocoDatasetError, match='17 keypoint names but a flip map of 15'):
        preflight(cfg, KEYPOINT_LEAF, resume=False)


def test_a_keypoint_arm_on_a_file_without_keypoints_stops_in_tools_train(trial_data, tmp_path):
    """The user's path: tools/train.py refuses before building a Runner, and the work
    dir the user named is left as it was."""
    cfg = _trial(trial_data, tmp_path)
    cfg.train_dataloader.dataset.ann_file = 'annotations/instances_train2017.json'
    path = str(tmp_path / osp.basename(KEYPOINT_LEAF))
    cfg.dump(path)
    work_dir = tmp_path / 'work'
    proc = run([sys.executable, TRAIN, path, '--work-dir', str(work_dir)], check=False)
    assert proc.returncode != 0
    assert 'lists no keypoints' in proc.stderr + proc.stdout
    assert not work_dir.exists()


# --- learning, not only running ---------------------------------------------------

LEARN_ITERS = 300
# Measured 2026-12-06 on this project's 2-core CPU machine (seed 0): keypoint AP 0.334
# after 300 iterations with the keypoint loss (0.124 at 150); with the loss switched off
# the head stayed untrained and the keypoint AP was 0.000. The bar sits between.
LEARNED_KEYPOINT_AP = 0.2
# OKS constants of the generated set: its stick figures' areas are their thin visible
# limbs, far smaller than a COCO person's silhouette, so COCO's sigmas would demand
# sub-pixel accuracy at 128 px.
GENERATED_SIGMAS = [0.1] * 17


def _learning_config(data_root: str, out_dir: str) -> str:
    """The scratch keypoint leaf at toy width (8 base channels as the demo's backbone)
    on the generated set: batch 4, 300 iterations at lr 0.02, drops at 80% and 95%,
    evaluated halfway and at the end."""
    cfg = trial_config(
        KEYPOINT_LEAF, data_root, iters=LEARN_ITERS, checkpoint_interval=LEARN_ITERS, batch_size=4
    )
    cfg.train_cfg.val_interval = LEARN_ITERS // 2
    for split in ('train', 'val', 'test'):
        cfg[f'{split}_dataloader'].dataset.metainfo = dict(sigmas=GENERATED_SIGMAS)
    cfg.param_scheduler.update(
        warmup_iters=30, milestones=[int(LEARN_ITERS * 0.8), int(LEARN_ITERS * 0.95)]
    )
    cfg.model.backbone.base_channels = 8
    cfg.model.neck.in_channels = [8, 16, 32, 64]
    cfg.default_hooks.logger.interval = 20
    cfg.log_processor.window_size = 20
    cfg.randomness = dict(seed=0)
    return write_trial_config(cfg, KEYPOINT_LEAF, out_dir)


@pytest.fixture(scope='module')
def keypoint_figures(tmp_path_factory) -> str:
    """240 training and 40 validation images of one or two stick figures, with
    occluding blocks, laid out as COCO person keypoints."""
    root = str(tmp_path_factory.mktemp('figures'))
    make_keypoint_set(osp.join(root, 'coco'), 240, seed=10, split='train2017', max_figures=2)
    make_keypoint_set(osp.join(root, 'coco'), 40, seed=11, split='val2017', max_figures=2)
    return root


def _tested(config: str, checkpoint: str, work_dir: str) -> dict:
    """tools/test.py's metrics for ``checkpoint``."""
    run([sys.executable, TEST, config, checkpoint, '--work-dir', work_dir])
    [path] = glob.glob(osp.join(work_dir, '*', '*.json'))
    with open(path) as f:
        return json.load(f)


@pytest.mark.slow  # 300 iterations at ~0.2 s on 2 cores
def test_a_short_cpu_training_learns_keypoints(keypoint_figures, tmp_path):
    """tools/train.py on the generated figures reaches a keypoint AP an untrained head
    cannot. tools/test.py on the final checkpoint gives the last evaluation's numbers
    again; the control is the same checkpoint with a freshly initialized keypoint head
    (the boxes it finds unchanged): tools/test.py scores it under the bar."""
    config = _learning_config(keypoint_figures, str(tmp_path / 'cfg'))
    work_dir = str(tmp_path / 'work')
    run([sys.executable, TRAIN, config, '--work-dir', work_dir])
    last = convergence(work_dir)[-1]
    assert last['iter'] == LEARN_ITERS
    assert last['coco/keypoints_mAP'] >= LEARNED_KEYPOINT_AP, last['coco/keypoints_mAP']
    assert last['coco/bbox_mAP'] > 0.2
    checkpoint = osp.join(work_dir, f'iter_{LEARN_ITERS}.pth')
    tested = _tested(config, checkpoint, str(tmp_path / 'test'))
    for key in ('coco/keypoints_mAP', 'coco/bbox_mAP'):
        assert tested[key] == pytest.approx(last[key], abs=1e-6), key

    trained = torch.load(checkpoint, map_location='cpu', weights_only=False)
    initial = build_model(Config.fromfile(config).model, init=True).state_dict()
    head = [k for k in trained['state_dict'] if k.startswith('roi_head.keypoint_head.')]
    assert head and any(not torch.equal(trained['state_dict'][k], initial[k]) for k in head)
    trained['state_dict'].update({k: initial[k] for k in head})
    untrained_head = str(tmp_path / 'untrained_head.pth')
    torch.save(trained, untrained_head)
    control = _tested(config, untrained_head, str(tmp_path / 'control'))
    assert control['coco/keypoints_mAP'] < LEARNED_KEYPOINT_AP, control['coco/keypoints_mAP']
    assert control['coco/bbox_mAP'] == pytest.approx(last['coco/bbox_mAP'], abs=1e-6)


# --- pair_experiment on a COCO keypoint file -----------------------------------------


@pytest.fixture(scope='module')
def small_figures(tmp_path_factory) -> str:
    root = str(tmp_path_factory.mktemp('small_figures'))
    make_keypoint_set(root, 16, seed=20, split='train')
    make_keypoint_set(root, 8, seed=21, split='val')
    return root


def _pair_cmd(root: str, out: str, *args: str) -> list:
    ann = osp.join(root, 'annotations', 'person_keypoints_{}.json')
    return [
        sys.executable,
        osp.join(REPO, 'tools', 'pair_experiment.py'),
        *('--train-ann', ann.format('train'), '--train-images', osp.join(root, 'train')),
        *('--val-ann', ann.format('val'), '--val-images', osp.join(root, 'val')),
        *('--out', out, *args),
    ]


def test_pair_experiment_on_a_keypoint_file_writes_the_keypoint_pair(small_figures, tmp_path):
    """As masks choose Mask R-CNN, COCO keypoints choose the Keypoint R-CNN arms; the
    written configs pass the checks a run makes first."""
    out = str(tmp_path / 'pair')
    run(_pair_cmd(small_figures, out, '--gpus', '1'))
    written = sorted(glob.glob(osp.join(out, 'configs', '*.py')))
    assert [osp.basename(p) for p in written] == [
        'keypoint-rcnn_r50-pretrained_fpn_gn-all_1x_pair.py',
        'keypoint-rcnn_r50-scratch_fpn_gn-all_3x_pair.py',
    ]
    for path in written:
        cfg = load_config(path)
        assert cfg.model.type == 'KeypointRCNN'
        assert cfg.model.roi_head.keypoint_head.num_keypoints == 17
        assert cfg.train_dataloader.dataset.type == 'CocoKeypointDataset'
        assert cfg.val_evaluator.type == 'CocoKeypointMetric'
        cfg.work_dir = str(tmp_path / 'work')
        preflight(cfg, path, resume=False)


def test_pair_experiment_refuses_the_lsj_recipe_and_other_keypoints(small_figures, tmp_path):
    proc = run(_pair_cmd(small_figures, str(tmp_path / 'a'), '--recipe', 'lsj'), check=False)
    assert proc.returncode != 0 and 'pass --recipe paper' in proc.stderr
    ann = osp.join(small_figures, 'annotations', 'person_keypoints_train.json')
    other = tmp_path / 'other'
    other.mkdir()
    with open(ann) as f:
        coco = json.load(f)
    coco['categories'][0]['keypoints'] = [f'point{i}' for i in range(17)]
    with open(other / 'train.json', 'w') as f:
        json.dump(coco, f)
    cmd = _pair_cmd(small_figures, str(tmp_path / 'b'))
    cmd[cmd.index('--train-ann') + 1] = str(other / 'train.json')
    proc = run(cmd, check=False)
    assert proc.returncode != 0 and "not COCO's 17" in proc.stderr
    assert not (tmp_path / 'a').exists() and not (tmp_path / 'b').exists()


# --- the experiment tools -----------------------------------------------------------


def test_count_samples_counts_a_keypoint_pair(small_figures):
    ann = osp.join(small_figures, 'annotations', 'person_keypoints_train.json')
    arms = [LEAF.format(arm='pretrained', n=2), LEAF.format(arm='scratch', n=3)]
    proc = run(
        [sys.executable, osp.join(REPO, 'tools', 'count_samples.py')]
        + [osp.join(RETHINKING, a) for a in arms]
        + ['--ann-file', ann, '--out', osp.join(small_figures, 'samples')]
    )
    with open(ann) as f:
        coco = json.load(f)
    per_image = len(coco['annotations']) / len(coco['images'])
    # 3x at batch 16 = 270000 x 16 images; the pretrained 2x adds ImageNet's 1.28e8.
    assert f'| {arms[1][:-3]} | images | 0 | 4.32e+06 | 4.32e+06 |' in proc.stdout
    assert f'{arms[0][:-3]}: {per_image:.2f} instances' in proc.stdout


def test_results_table_has_keypoint_ap_beside_the_papers():
    from mmrethink.analysis.results import results_table
    from mmrethink.analysis.runs import Run

    name = LEAF.format(arm='scratch', n=2)[:-3]
    run_ = Run(name, [{'iter': 180000, 'coco/bbox_mAP': 0.4, 'coco/keypoints_mAP': 0.652}])
    table = results_table([run_])
    assert '| keypoint AP |' in table.splitlines()[0]
    # box 40.0, no mask; keypoint 65.2 beside the paper's 65.6 (Sec. 5), -0.4.
    assert f'| {name} | 180000 | 40.0 | — | 65.2 | — | — | 65.6 | — | — | -0.4 |' in table
    box_only = results_table([Run('x', [{'iter': 1, 'coco/bbox_mAP': 0.4}])])
    assert 'keypoint' not in box_only


def test_keypoints_beside_a_mask_branch_train_and_predict_in_the_original_image():
    """The keypoint branch beside box and mask (the paper's keypoint model is "Mask
    R-CNN"): one training step has all three losses; prediction gives masks and
    keypoints, the keypoints scaled back to the original image like the boxes."""
    from mmdet.registry import MODELS
    from mmdet.testing import demo_mm_inputs
    from mmengine.registry import DefaultScope

    from mmrethink.diagnostics.shrink import shrink_model

    cfg = leaf('scratch', 2)
    mask = load_config(osp.join(RETHINKING, 'mask-rcnn_r50-scratch_fpn_gn-all_2x_coco.py'))
    roi = cfg.model.roi_head
    roi.mask_roi_extractor = mask.model.roi_head.mask_roi_extractor
    roi.mask_head = dict(mask.model.roi_head.mask_head, num_classes=1)
    model_cfg = shrink_model(cfg.model)
    model_cfg.test_cfg.rcnn.score_thr = 0.0
    with DefaultScope.overwrite_default_scope('mmdet'):
        model = MODELS.build(model_cfg)
        model.init_weights()
    packed = demo_mm_inputs(2, [(3, 128, 160), (3, 96, 128)], num_items=[3, 2], with_mask=True)
    torch.manual_seed(0)
    for sample in packed['data_samples']:
        gt = sample.gt_instances
        gt.labels.zero_()
        at = torch.rand(len(gt.bboxes), 17, 2)
        xy = gt.bboxes[:, None, :2] + at * (gt.bboxes[:, None, 2:] - gt.bboxes[:, None, :2])
        gt.keypoints = torch.cat([xy, torch.full_like(xy[..., :1], 2)], -1)
    model.train()
    data = model.data_preprocessor(packed, True)
    losses = model(**data, mode='loss')
    assert {'loss_bbox', 'loss_mask', 'loss_keypoint'} <= set(losses)
    assert torch.isfinite(losses['loss_keypoint'])

    model.eval()
    sample = packed['data_samples'][0]
    sample.set_metainfo(dict(scale_factor=(2.0, 2.0), ori_shape=(64, 80)))
    data = model.data_preprocessor(dict(inputs=packed['inputs'][:1], data_samples=[sample]))
    with torch.no_grad():
        [pred] = model(**data, mode='predict')
    found = pred.pred_instances
    assert len(found) > 0 and found.masks.shape[1:] == (64, 80)
    assert found.keypoints.shape == (len(found), 17, 3)
    # Keypoints decode inside their box; both are in the 80 x 64 original image.
    xy = found.keypoints[..., :2]
    boxes = found.bboxes
    assert (xy >= boxes[:, None, :2] - 1e-3).all() and (xy <= boxes[:, None, 2:] + 1e-3).all()
    assert boxes[:, 2].max() <= 80 + 1e-3 and boxes[:, 3].max() <= 64 + 1e-3
