"""Keypoint R-CNN in MMDetection 3.x: a RoI head with a keypoint branch, and the
detector that names it.

The keypoint branch sits beside the box branch (and the mask branch, where one is
configured) as in Detectron2's ``StandardROIHeads`` (``_forward_keypoint``): in
training it sees the positive RoIs the box branch sampled, in testing the final
detections. Its RoI features come from its own extractor (14x14 in Detectron2's
``ROI_KEYPOINT_HEAD.POOLER_RESOLUTION``), not the box branch's 7x7 ones.
"""

from typing import List, Tuple

import torch
from mmdet.models import StandardRoIHead, TwoStageDetector
from mmdet.structures import SampleList
from mmdet.utils import ConfigType, InstanceList
from torch import Tensor

from mmrethink.registry import MODELS


def rois_of(boxes: List[Tensor]) -> Tensor:
    """RoIs (n, 5: image index, x0, y0, x1, y1) of each image's boxes (mmdet's
    ``bbox2roi`` layout)."""
    index = [b.new_full((len(b), 1), i) for i, b in enumerate(boxes)]
    return torch.cat([torch.cat(index), torch.cat(boxes)], 1)


@MODELS.register_module()
class KeypointRoIHead(StandardRoIHead):
    """mmdet's ``StandardRoIHead`` plus a keypoint branch.

    Training: the positive RoIs of the box branch's sampler whose ground truth has a
    labeled keypoint inside the RoI (Detectron2's
    ``select_proposals_with_visible_keypoints``; the others would add nothing to the
    loss) go through ``keypoint_roi_extractor`` and ``keypoint_head``; targets are the
    matched ground truth's ``keypoints`` (N x K x 3, from ``PackKeypointDetInputs``).
    Testing: every detection gets ``keypoints`` (n x K x 3: x, y, score), in the
    original image's coordinates when ``rescale``.

    Args:
        keypoint_roi_extractor: RoI feature extractor of the keypoint branch.
        keypoint_head: The keypoint head (``KeypointRCNNHead``).
        **kwargs: ``StandardRoIHead``'s (box and optional mask branch, train/test cfg).
    """

    def __init__(
        self, keypoint_roi_extractor: ConfigType, keypoint_head: ConfigType, **kwargs
    ) -> None:
        super().__init__(**kwargs)
        self.keypoint_roi_extractor = MODELS.build(keypoint_roi_extractor)
        self.keypoint_head = MODELS.build(keypoint_head)

    def loss(
        self, x: Tuple[Tensor], rpn_results_list: InstanceList, batch_data_samples: SampleList
    ) -> dict:
        """Box, mask (if any) and keypoint losses on one sampling of the proposals."""
        batch_gt_instances = [sample.gt_instances for sample in batch_data_samples]
        batch_gt_instances_ignore = [
            sample.get('ignored_instances') for sample in batch_data_samples
        ]
        sampling_results = []
        for i, rpn_results in enumerate(rpn_results_list):
            rpn_results.priors = rpn_results.pop('bboxes')
            assign_result = self.bbox_assigner.assign(
                rpn_results, batch_gt_instances[i], batch_gt_instances_ignore[i]
            )
            sampling_results.append(
                self.bbox_sampler.sample(
                    assign_result,
                    rpn_results,
                    batch_gt_instances[i],
                    feats=[level[i][None] for level in x],
                )
            )
        bbox_results = self.bbox_loss(x, sampling_results)
        losses = dict(bbox_results['loss_bbox'])
        if self.with_mask:
            mask_results = self.mask_loss(
                x, sampling_results, bbox_results['bbox_feats'], batch_gt_instances
            )
            losses.update(mask_results['loss_mask'])
        losses.update(self.keypoint_loss(x, sampling_results, batch_gt_instances))
        return losses

    def keypoint_loss(
        self,
        x: Tuple[Tensor],
        sampling_results: list,
        batch_gt_instances: InstanceList,
    ) -> dict:
        """The keypoint head's loss on the positives (of mmdet's ``SamplingResult``
        per image) that have a keypoint target."""
        rois, keypoints = [], []
        for res, gt in zip(sampling_results, batch_gt_instances):
            rois.append(res.pos_priors)
            keypoints.append(gt.keypoints[res.pos_assigned_gt_inds])
        boxes, keypoints = torch.cat(rois), torch.cat(keypoints)
        targets, valid = self.keypoint_head.heatmap_targets(boxes, keypoints, self.heatmap_size)
        keep = valid.any(1)
        if not keep.any():
            # Nothing to learn from: a zero on the head's parameters keeps every
            # process's gradients the same shape under DDP.
            zero = sum(p.sum() for p in self.keypoint_head.parameters()) * 0
            return dict(loss_keypoint=zero)
        pos_rois = rois_of(rois)[keep]
        heatmaps = self.keypoint_head(self._keypoint_features(x, pos_rois))
        return self.keypoint_head.loss(heatmaps, targets[keep], valid[keep])

    @property
    def heatmap_size(self) -> int:
        """Side of the keypoint heatmaps: the RoI size x 2 (deconv) x upsampling."""
        roi_size = self.keypoint_roi_extractor.roi_layers[0].output_size[0]
        return roi_size * 2 * self.keypoint_head.upsample_factor

    def _keypoint_features(self, x: Tuple[Tensor], rois: Tensor) -> Tensor:
        return self.keypoint_roi_extractor(x[: self.keypoint_roi_extractor.num_inputs], rois)

    def predict(
        self,
        x: Tuple[Tensor],
        rpn_results_list: InstanceList,
        batch_data_samples: SampleList,
        rescale: bool = False,
    ) -> InstanceList:
        """Boxes, keypoints and (if configured) masks of each image.

        Keypoints are decoded on the boxes in the network input's coordinates, then
        scaled like the boxes; the mask branch rescales the boxes itself (mmdet's
        ``FCNMaskHead``), otherwise they are rescaled here as mmdet's box head does.
        """
        metas = [sample.metainfo for sample in batch_data_samples]
        results_list = self.predict_bbox(
            x, metas, rpn_results_list, rcnn_test_cfg=self.test_cfg, rescale=False
        )
        boxes = [results.bboxes for results in results_list]
        rois = rois_of(boxes)
        scales = [meta['scale_factor'] if rescale else None for meta in metas]
        if len(rois):
            heatmaps = self.keypoint_head(self._keypoint_features(x, rois))
        else:
            heatmaps = rois.new_zeros(0, self.keypoint_head.num_keypoints, 1, 1)
        results_list = self.keypoint_head.predict_by_feat(heatmaps, results_list, boxes, scales)
        if self.with_mask:
            return self.predict_mask(x, metas, results_list, rescale=rescale)
        if rescale:
            for results, scale in zip(results_list, scales):
                results.bboxes = results.bboxes / results.bboxes.new_tensor(scale).repeat(2)
        return results_list


@MODELS.register_module()
class KeypointRCNN(TwoStageDetector):
    """Keypoint R-CNN: a two-stage detector whose RoI head (``KeypointRoIHead``) also
    predicts keypoints. It adds no behaviour to mmdet's ``TwoStageDetector``: the name
    says in configs and logs what the model is."""
