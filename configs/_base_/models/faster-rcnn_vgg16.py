# Faster R-CNN VGG-16 without normalization (paper Sec. 5, "VGG nets": "following the
# original Faster R-CNN paper and its VGG-16 architecture; no FPN is used"), as
# Detectron builds it (detectron/modeling/VGG16.py): conv1_1-conv5_3 at stride 16, one
# RPN level, fc6/fc7 of 4096 on 7x7 RoI features (mmrethink/models/vgg.py). As it stands
# this is the scratch arm (no checkpoint, nothing frozen); faster-rcnn_vgg16_pretrained.py
# is its twin. The single-level RPN and its proposal counts are mmdet's C4 model's, which
# are Detectron's 12_2017_baselines/e2e_faster_rcnn_R-50-C4_1x.yaml: anchors of 32-512
# px (scales 2-32 x stride 16) at ratios 0.5, 1, 2; 12000/2000 proposals before/after NMS
# in training, 6000/1000 in testing.
_base_ = 'mmdet::_base_/models/faster-rcnn_r50-caffe-c4.py'

model = dict(
    # torchvision's ImageNet VGG-16 (the pretrained arm's) reads RGB normalized by
    # ImageNet's mean and std; both arms do, so they see identical inputs.
    data_preprocessor=dict(
        mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], bgr_to_rgb=True
    ),
    backbone=dict(_delete_=True, type='VGGBody', depth=16, frozen_stages=-1, init_cfg=None),
    rpn_head=dict(in_channels=512, feat_channels=512),
    roi_head=dict(
        shared_head=None,
        # RoIAlign, not the original RoIPool: mmcv 2.1.0's RoIPool has no CPU kernel and
        # Detectron's e2e configs pool with RoIAlign (configs/rethinking/README.md).
        bbox_roi_extractor=dict(
            roi_layer=dict(type='RoIAlign', output_size=7, sampling_ratio=0),
            out_channels=512,
        ),
        bbox_head=dict(
            _delete_=True,
            type='VGGFCBBoxHead',
            in_channels=512,
            fc_out_channels=4096,
            roi_feat_size=7,
            num_classes=80,
            bbox_coder=dict(
                type='DeltaXYWHBBoxCoder',
                target_means=[0.0, 0.0, 0.0, 0.0],
                target_stds=[0.1, 0.1, 0.2, 0.2],
            ),
            reg_class_agnostic=False,
            loss_cls=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0),
            loss_bbox=dict(type='L1Loss', loss_weight=1.0),
        ),
    ),
    # MSRA for every convolution, as the paper initializes VGG-16 in both arms; the
    # rest as every other arm of the pack (mmrethink/models/detectron2_init.py).
    init_cfg=dict(type='Detectron2Init'),
)
