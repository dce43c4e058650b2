"""Test-time augmentation that keeps masks: the paper's Table 3 "+ test aug" row."""

from typing import List

import torch
from mmcv.ops import batched_nms
from mmdet.models.test_time_augs import DetTTAModel
from mmdet.structures import DetDataSample
from mmengine.structures import InstanceData

from mmrethink.registry import MODELS

# The mask dimensions each of mmdet's flip directions reverses (masks are N x H x W).
FLIP_DIMS = dict(horizontal=(-1,), vertical=(-2,), diagonal=(-2, -1))


@MODELS.register_module()
class DetMaskTTAModel(DetTTAModel):
    """mmdet's ``DetTTAModel`` for boxes and instance masks.

    mmdet 3.3's ``DetTTAModel`` refuses masks ("TTA of instance segmentation does not
    support now"). This one merges every view of an image as it does (boxes of flipped
    views flipped back, the union of all views' detections, per-class NMS with
    ``tta_cfg.nms``, the ``tta_cfg.max_per_img`` best) and keeps each surviving box's
    own mask, flipped back with it; the views' masks are already at the original image
    size (mmdet predicts with ``rescale=True``). Detectron's test aug differs: it
    votes box coordinates and soft-averages the mask probabilities of every view for
    each final box (``TEST.BBOX_VOTE``, ``TEST.MASK_AUG.HEUR: SOFT_AVG``).
    """

    def _merge_single_sample(self, data_samples: List[DetDataSample]) -> DetDataSample:
        """One image's views merged into one prediction."""
        if data_samples[0].pred_instances.get('masks') is None:
            return super()._merge_single_sample(data_samples)
        predictions = [sample.pred_instances for sample in data_samples]
        bboxes, scores = self.merge_aug_bboxes(
            [p.bboxes for p in predictions],
            [p.scores for p in predictions],
            [sample.metainfo for sample in data_samples],
        )
        if bboxes.numel() == 0:
            return data_samples[0]
        labels = torch.cat([p.labels for p in predictions])
        masks = torch.cat(
            [
                p.masks.flip(FLIP_DIMS[sample.flip_direction]) if sample.flip else p.masks
                for p, sample in zip(predictions, data_samples)
            ]
        )
        dets, keep = batched_nms(bboxes, scores, labels, self.tta_cfg.nms)
        keep = keep[: self.tta_cfg.max_per_img]
        merged = InstanceData(
            bboxes=dets[: len(keep), :-1],
            scores=dets[: len(keep), -1],
            labels=labels[keep],
            masks=masks[keep],
        )
        result = data_samples[0]
        result.pred_instances = merged
        return result
