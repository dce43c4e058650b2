"""Test-time augmentation that keeps masks: the paper's Table 3 "+ test aug" row."""

from typing import List

import torch
from mmcv.ops import batched_nms
from mmdet.models import DetTTAModel
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

    def test_step(self, data: dict) -> List[DetDataSample]:
        """Each view predicted by the detector on its own, then merged.

        The detector is told that no view is flipped (``flip`` is restored before the
        merge, which flips boxes and masks back). A view's predictions stay in its own,
        flipped, frame until then; mmdet 3.3's ``CascadeRoIHead.predict_mask`` would
        otherwise "flip back" the average of its stages' RoI masks (``merge_aug_masks``
        with the image's ``flip``): a negative-step slice of a tensor (``ValueError``),
        and a mirrored mask in the flipped view's frame even if it ran.
        """
        predictions = []
        for index in range(len(data['inputs'])):
            view = {key: value[index] for key, value in data.items()}
            flips = [sample.flip for sample in view['data_samples']]
            for sample in view['data_samples']:
                sample.set_metainfo(dict(flip=False))
            predicted = self.module.test_step(view)
            for sample, flip in zip(predicted, flips):
                sample.set_metainfo(dict(flip=flip))
            predictions.append(predicted)
        return self.merge_preds(list(zip(*predictions)))

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
