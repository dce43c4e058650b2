"""The keypoint head of Keypoint R-CNN (He et al., Mask R-CNN, ICCV 2017, Sec. 5).

Designed after Detectron2's ``modeling/roi_heads/keypoint_head.py``
(``KRCNNConvDeconvUpsampleHead``, ``keypoint_rcnn_loss``, ``heatmaps_to_keypoints``)
and ``structures/keypoints.py`` (``_keypoints_to_heatmap``), which reproduce Detectron's
``keypoint_rcnn_heads.py``: a stack of 3x3 convolutions on each RoI's 14x14 features,
a stride-2 deconvolution to one map per keypoint and a bilinear x2 upsampling, so a
14x14 RoI gives 56x56 heatmaps. Each visible keypoint is one-hot on its heatmap: the
loss is a softmax cross-entropy over the map's positions, averaged over the visible
keypoints of the batch; the prediction is each map's arg max.
"""

import math
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmdet.utils import InstanceList, OptConfigType
from mmengine.model import BaseModule
from torch import Tensor

from mmrethink.registry import MODELS


@MODELS.register_module()
class KeypointRCNNHead(BaseModule):
    """``num_convs`` x (conv3x3 ``conv_out_channels`` [+ norm] + ReLU), a 4x4 stride-2
    deconvolution to ``num_keypoints`` maps, bilinear upsampling by ``upsample_factor``.

    Detectron's and Detectron2's head: 8 convolutions of 512 channels, no norm, MSRA
    init of every weight (``deconv_logits`` included), biases 0. ``norm_cfg`` adds a
    norm after each convolution (not in either reference; see the model config for why
    the pack's GN arms leave it out).

    Args:
        num_keypoints: Heatmaps per RoI (17 for COCO persons).
        in_channels: Channels of the RoI features.
        num_convs: 3x3 convolutions before the deconvolution.
        conv_out_channels: Their width.
        upsample_factor: Bilinear upsampling after the deconvolution.
        norm_cfg: Norm after each convolution; None for none.
        loss_weight: Weight of the keypoint loss.
        init_cfg: Init when the detector's init does not cover the head.
    """

    def __init__(
        self,
        num_keypoints: int = 17,
        in_channels: int = 256,
        num_convs: int = 8,
        conv_out_channels: int = 512,
        upsample_factor: int = 2,
        norm_cfg: OptConfigType = None,
        loss_weight: float = 1.0,
        init_cfg: OptConfigType = dict(
            type='Kaiming',
            mode='fan_out',
            nonlinearity='relu',
            distribution='normal',
            bias=0,
            layer=['Conv2d', 'ConvTranspose2d'],
        ),
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        self.num_keypoints = num_keypoints
        self.upsample_factor = upsample_factor
        self.loss_weight = loss_weight
        self.convs = nn.Sequential(
            *(
                ConvModule(
                    in_channels if i == 0 else conv_out_channels,
                    conv_out_channels,
                    3,
                    padding=1,
                    norm_cfg=norm_cfg,
                )
                for i in range(num_convs)
            )
        )
        self.deconv_logits = nn.ConvTranspose2d(
            conv_out_channels if num_convs else in_channels, num_keypoints, 4, stride=2, padding=1
        )

    def forward(self, x: Tensor) -> Tensor:
        """Heatmap logits (N, K, S, S) of RoI features (N, C, R, R); S = 2R x factor."""
        heatmaps = self.deconv_logits(self.convs(x))
        return F.interpolate(
            heatmaps, scale_factor=self.upsample_factor, mode='bilinear', align_corners=False
        )

    @staticmethod
    def heatmap_targets(rois: Tensor, keypoints: Tensor, size: int) -> Tuple[Tensor, Tensor]:
        """Each keypoint's position on its RoI's ``size`` x ``size`` heatmap.

        ``rois`` (N, 4) boxes and ``keypoints`` (N, K, 3) in image coordinates. The RoI
        is cut into ``size`` x ``size`` cells and a keypoint's target is the flat index
        of the cell it falls in. Returns the indices (N, K) and whether each is a
        target: labeled (visibility > 0) and inside the RoI. A keypoint on the RoI's
        right or bottom edge belongs to the last cell, as in Detectron2.
        """
        origin, extent = rois[:, None, :2], (rois[:, None, 2:] - rois[:, None, :2]).clamp(min=1e-6)
        cell = ((keypoints[..., :2] - origin) * (size / extent)).floor().long()
        on_far_edge = keypoints[..., :2] == rois[:, None, 2:]
        cell = torch.where(on_far_edge, torch.full_like(cell, size - 1), cell)
        inside = ((cell >= 0) & (cell < size)).all(-1)
        valid = inside & (keypoints[..., 2] > 0)
        return (cell[..., 1] * size + cell[..., 0]) * valid, valid

    def loss(self, heatmaps: Tensor, targets: Tensor, valid: Tensor) -> Dict[str, Tensor]:
        """Cross-entropy over the heatmap positions of each target keypoint, summed and
        divided by the number of target keypoints (Detectron2's
        ``normalize_by_visible_keypoints``). No targets: a zero that keeps the graph."""
        if not valid.any():
            return dict(loss_keypoint=heatmaps.sum() * 0)
        logits = heatmaps.flatten(2)[valid]
        loss = F.cross_entropy(logits, targets[valid], reduction='sum') / valid.sum()
        return dict(loss_keypoint=loss * self.loss_weight)

    def predict_by_feat(
        self,
        heatmaps: Tensor,
        results_list: InstanceList,
        boxes: List[Tensor],
        scale_factors: List[Optional[Tuple[float, float]]],
    ) -> InstanceList:
        """Add ``keypoints`` (n, K, 3: x, y, score) to each image's results.

        ``heatmaps`` are the logits of all images' detections in order, ``boxes`` each
        image's boxes in the network input's coordinates; keypoints are divided by the
        image's ``scale_factors`` (None: left in input coordinates).
        """
        for results, maps, image_boxes, scale in zip(
            results_list, heatmaps.split([len(b) for b in boxes]), boxes, scale_factors
        ):
            keypoints = self.decode(maps, image_boxes)
            if scale is not None:
                keypoints[..., :2] /= keypoints.new_tensor(scale)
            results.keypoints = keypoints
        return results_list

    @staticmethod
    def decode(heatmaps: Tensor, boxes: Tensor) -> Tensor:
        """Keypoints (n, K, 3: x, y, logit) of heatmaps (n, K, S, S) over ``boxes``.

        Each RoI's maps are resized bicubically to the box's size in pixels (rounded
        up) and each keypoint is the centre of its map's highest pixel, as Detectron2's
        ``heatmaps_to_keypoints``; its score is the logit there.
        """
        keypoints = heatmaps.new_zeros(len(boxes), heatmaps.shape[1], 3)
        for i, (maps, box) in enumerate(zip(heatmaps, boxes)):
            width, height = (box[2:] - box[:2]).clamp(min=1).tolist()
            size = (math.ceil(height), math.ceil(width))
            resized = F.interpolate(maps[None], size=size, mode='bicubic', align_corners=False)[0]
            score, flat = resized.flatten(1).max(1)
            column, row = flat % size[1], flat // size[1]
            keypoints[i, :, 0] = box[0] + (column + 0.5) * (width / size[1])
            keypoints[i, :, 1] = box[1] + (row + 0.5) * (height / size[0])
            keypoints[i, :, 2] = score
        return keypoints
