# Mask R-CNN R50-FPN with GroupNorm everywhere (He et al. 2019, Sec. 4): backbone, FPN,
# 4conv1fc box head and 4-conv mask head, initialized part by part as Detectron2. As it
# stands this is the scratch arm (no checkpoint, nothing frozen); a pretrained leaf adds
# the ImageNet checkpoint and freezes the stem and res2 (configs/rethinking/README.md).
_base_ = 'mmdet::_base_/models/mask-rcnn_r50_fpn.py'

norm_cfg = dict(type='GN', num_groups=32, requires_grad=True)
model = dict(
    # The GN ImageNet model (open-mmlab://detectron/resnet50_gn) is caffe-style: BGR,
    # mean-subtracted, unit std. Both arms use it so they see identical inputs.
    data_preprocessor=dict(mean=[103.530, 116.280, 123.675], std=[1.0, 1.0, 1.0], bgr_to_rgb=False),
    backbone=dict(
        frozen_stages=-1,
        norm_cfg=norm_cfg,
        norm_eval=False,
        zero_init_residual=False,
        init_cfg=None,
    ),
    neck=dict(norm_cfg=norm_cfg),
    roi_head=dict(
        bbox_head=dict(type='Shared4Conv1FCBBoxHead', conv_out_channels=256, norm_cfg=norm_cfg),
        mask_head=dict(norm_cfg=norm_cfg),
    ),
    # Every part no checkpoint loads, as Detectron2 (mmrethink/models/detectron2_init.py).
    init_cfg=dict(type='Detectron2Init'),
)
