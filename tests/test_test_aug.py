"""Issue 28: the paper's Table 3 test aug for the Cascade X152 arm (tools/test.py --tta)."""

import os.path as osp
import pickle
import sys

import pytest
import torch
from mmdet.structures import DetDataSample
from mmengine.config import ConfigDict
from mmengine.structures import InstanceData

from helpers import REPO, load_config, run
from mmrethink.diagnostics.trial import (
    family_config_path,
    trial_config,
    write_trial_config,
)
from mmrethink.models import DetMaskTTAModel

TEST = osp.join(REPO, 'tools', 'test.py')
TRAIN = osp.join(REPO, 'tools', 'train.py')
CASCADE = osp.join(
    REPO, 'configs', 'rethinking', 'cascade-mask-rcnn_x152-32x8d-scratch_fpn_gn-all_ms-9x_coco.py'
)


class _Detector(torch.nn.Module):
    """What DetMaskTTAModel wraps; merging never calls it."""

    def test_step(self, data):
        raise AssertionError('not called when merging')


def _view(boxes, scores, labels, masks, flip: bool) -> DetDataSample:
    sample = DetDataSample(
        metainfo=dict(ori_shape=(4, 8), flip=flip, flip_direction='horizontal' if flip else None)
    )
    sample.pred_instances = InstanceData(
        bboxes=torch.tensor(boxes, dtype=torch.float32),
        scores=torch.tensor(scores),
        labels=torch.tensor(labels),
        masks=torch.stack(masks),
    )
    return sample


def _mask(columns) -> torch.Tensor:
    mask = torch.zeros(4, 8, dtype=torch.bool)
    mask[:, columns] = True
    return mask


def test_views_merge_with_their_masks_flipped_back():
    """An object seen in both views (kept once, from the better-scored view) and one
    only the flipped view found (its box and mask flipped back, both to the left)."""
    tta = DetMaskTTAModel(
        module=_Detector(),
        tta_cfg=ConfigDict(nms=dict(type='nms', iou_threshold=0.5), max_per_img=100),
    )
    plain = _view([[0, 0, 2, 4]], [0.9], [1], [_mask(slice(0, 2))], flip=False)
    # In the flipped image (width 8) the same object is at x 6-8, the other at x 4-6.
    flipped = _view(
        [[6, 0, 8, 4], [4, 0, 6, 4]],
        [0.6, 0.7],
        [1, 1],
        [_mask(slice(6, 8)), _mask(slice(4, 6))],
        flip=True,
    )
    merged = tta.merge_preds([[plain, flipped]])[0].pred_instances
    assert merged.scores.tolist() == pytest.approx([0.9, 0.7])
    assert merged.bboxes.tolist() == [[0, 0, 2, 4], [2, 0, 4, 4]]
    assert torch.equal(merged.masks[0], _mask(slice(0, 2)))
    assert torch.equal(merged.masks[1], _mask(slice(2, 4)))


class _OneBoxDetector(torch.nn.Module):
    """Finds one object at x 0-2 of whatever view it is given (score 0.9, then 0.8),
    recording the ``flip`` it is told."""

    def __init__(self) -> None:
        super().__init__()
        self.told: list = []

    def test_step(self, data):
        for sample in data['data_samples']:
            self.told.append(sample.flip)
            sample.pred_instances = InstanceData(
                bboxes=torch.tensor([[0.0, 0.0, 2.0, 4.0]]),
                scores=torch.tensor([0.9 - 0.1 * (len(self.told) - 1)]),
                labels=torch.tensor([1]),
                masks=_mask(slice(0, 2))[None],
            )
        return data['data_samples']


def test_each_view_is_predicted_unflipped_and_merged_flipped_back():
    """The detector is told no view is flipped (mmdet's Cascade mask head would flip its
    stage masks back itself, and fail); the merge then flips the flipped view's box and
    mask back: what it found at x 0-2 of the mirrored image is at x 6-8."""
    detector = _OneBoxDetector()
    tta = DetMaskTTAModel(
        module=detector,
        tta_cfg=ConfigDict(nms=dict(type='nms', iou_threshold=0.5), max_per_img=100),
    )
    views = [
        DetDataSample(
            metainfo=dict(
                ori_shape=(4, 8), flip=flip, flip_direction='horizontal' if flip else None
            )
        )
        for flip in (False, True)
    ]
    image = torch.zeros(3, 4, 8)
    [merged] = tta.test_step(dict(inputs=[[image], [image]], data_samples=[[v] for v in views]))
    assert detector.told == [False, False]
    assert [v.flip for v in views] == [False, True]  # restored for the merge
    assert merged.pred_instances.bboxes.tolist() == [[0, 0, 2, 4], [6, 0, 8, 4]]
    assert torch.equal(merged.pred_instances.masks[1], _mask(slice(6, 8)))


def test_cascade_arm_configures_the_test_aug_views():
    cfg = load_config(CASCADE)
    assert cfg.tta_model.type == 'DetMaskTTAModel'
    assert cfg.tta_model.tta_cfg == dict(nms=dict(type='nms', iou_threshold=0.5), max_per_img=100)
    resizes, flips, _ = cfg.tta_pipeline[1].transforms
    # Detectron's configs/test_time_aug/e2e_mask_rcnn_R-50-FPN_2x.yaml: 400-1200 (and the
    # test scale 800), MAX_SIZE 2000, H_FLIP and SCALE_H_FLIP.
    assert [r.scale for r in resizes] == [(2000, s) for s in range(400, 1201, 100)]
    assert [f.prob for f in flips] == [1.0, 0.0]


def test_the_test_aug_pipeline_gives_eighteen_views_of_an_image(tmp_path):
    """The config's tta_pipeline, run as tools/test.py --tta runs it, on one 300 x 200
    image: 9 scales (short side 400-1200, long side at most 2000) x (flipped, not)."""
    import cv2
    import numpy as np
    from mmengine.dataset import Compose
    from mmengine.registry import init_default_scope

    path = str(tmp_path / 'image.png')
    cv2.imwrite(path, np.zeros((200, 300, 3), np.uint8))
    init_default_scope('mmdet')
    views = Compose(load_config(CASCADE).tta_pipeline)(dict(img_path=path, img_id=0))
    shapes_and_flips = sorted((sample.img_shape, sample.flip) for sample in views['data_samples'])
    expected = sorted(
        (tuple(min(round(side * s / 200), round(side * 2000 / 300)) for side in (200, 300)), flip)
        for s in range(400, 1201, 100)
        for flip in (True, False)
    )
    assert len(views['inputs']) == 18
    assert shapes_and_flips == expected


TESTED_IMAGES = 2


@pytest.mark.slow
def test_tools_test_tta_evaluates_the_cascade_arm_on_generated_data(trial_data, tmp_path):
    config = family_config_path('cascade-x152-scratch')
    cfg = trial_config(config, trial_data, iters=2, checkpoint_interval=2)
    # Two of the 8 validation images: 18 views each of a Cascade X152 (plumbing, not AP).
    cfg.test_dataloader.dataset.indices = TESTED_IMAGES
    path = write_trial_config(cfg, config, str(tmp_path / 'configs'))
    run([sys.executable, TRAIN, path, '--work-dir', str(tmp_path / 'train')])
    checkpoint = str(tmp_path / 'train' / 'iter_2.pth')
    outs = {}
    for name, flags in (('single', []), ('tta', ['--tta'])):
        out = str(tmp_path / f'{name}.pkl')
        proc = run([sys.executable, TEST, path, checkpoint, '--out', out, *flags,
                    '--work-dir', str(tmp_path / name)])  # fmt: skip
        log = proc.stdout + proc.stderr
        assert 'coco/bbox_mAP' in log and 'coco/segm_mAP' in log, log[-3000:]
        with open(out, 'rb') as f:
            outs[name] = pickle.load(f)
    assert len(outs['tta']) == len(outs['single']) == TESTED_IMAGES  # every tested image
    for single, tta in zip(outs['single'], outs['tta']):
        assert tta['img_id'] == single['img_id']
        masks = tta['pred_instances']['masks']
        assert len(masks) == len(tta['pred_instances']['bboxes']) > 0
    # 18 views merged: other detections than the single view's.
    assert any(
        len(s['pred_instances']['bboxes']) != len(t['pred_instances']['bboxes'])
        or not torch.allclose(s['pred_instances']['bboxes'], t['pred_instances']['bboxes'])
        for s, t in zip(outs['single'], outs['tta'])
    )


@pytest.mark.slow
def test_tta_without_views_in_the_config_is_refused(tmp_path):
    config = osp.join(
        REPO, 'configs', 'rethinking', 'faster-rcnn_r50-scratch_fpn_gn-all_3x_coco.py'
    )
    checkpoint = tmp_path / 'x.pth'
    checkpoint.write_bytes(b'')
    proc = run([sys.executable, TEST, config, str(checkpoint), '--tta'], check=False)
    assert proc.returncode == 2  # a refusal: the message alone, no traceback
    assert 'tools/test.py: --tta: the config sets no tta_model and no tta_pipeline' in proc.stderr
    assert 'configs/_base_/test_time_aug.py' in proc.stderr
    assert 'Traceback' not in proc.stderr
