# Keypoint R-CNN R50-FPN with GroupNorm (He et al. 2019, Sec. 5: "Mask R-CNN with
# R50-FPN and GN" on COCO person keypoints): the GN Mask R-CNN of
# mask-rcnn_r50_fpn_gn-all.py with a keypoint branch in place of the mask branch, as
# Detectron's e2e_keypoint_rcnn_R-50-FPN configs (KEYPOINTS_ON, no MASK_ON) and
# Detectron2's keypoint_rcnn_R_50_FPN configs. One class (person). As it stands this is
# the scratch arm; a pretrained leaf adds the ImageNet checkpoint and freezes the stem
# and res2, as the Mask R-CNN pretrained arm does.
#
# No GN in the keypoint head: GN replaces the frozen BN of the pretrained model, and the
# keypoint head has none to replace. It is Detectron's head as published (8 convs of
# 512, MSRA init, no norm: keypoint_rcnn_heads.py, Detectron2's
# KRCNNConvDeconvUpsampleHead), which converges from random init in every Detectron run,
# and it is randomly initialized in both arms, so the choice cannot favour either; the
# paper does not say. Set keypoint_head.norm_cfg to try GN there.
_base_ = './mask-rcnn_r50_fpn_gn-all.py'

num_keypoints = 17  # COCO's (CocoKeypointDataset's meta)
model = dict(
    type='KeypointRCNN',
    roi_head=dict(
        type='KeypointRoIHead',
        bbox_head=dict(num_classes=1),
        mask_roi_extractor=None,
        mask_head=None,
        # Detectron2 ROI_KEYPOINT_HEAD: POOLER_RESOLUTION 14 (14 x 2 deconv x 2 bilinear
        # = 56x56 heatmaps, Detectron's HEATMAP_SIZE 56).
        keypoint_roi_extractor=dict(
            type='SingleRoIExtractor',
            roi_layer=dict(type='RoIAlign', output_size=14, sampling_ratio=0),
            out_channels=256,
            featmap_strides=[4, 8, 16, 32],
        ),
        keypoint_head=dict(
            type='KeypointRCNNHead',
            num_keypoints=num_keypoints,
            in_channels=256,
            num_convs=8,
            conv_out_channels=512,
        ),
    ),
)
