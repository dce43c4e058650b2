_base_ = [
    '../_base_/models/mask-rcnn_r50_fpn_gn-all.py',
    '../_base_/datasets/coco_instance_ms-640-800.py',
    '../_base_/schedules/rethinking_9x.py',
    '../_base_/default_runtime.py',
    '../_base_/test_time_aug.py',
]

# Cascade Mask R-CNN X152 from scratch with train aug (paper Table 3, 48.6 box AP; with
# test aug, `tools/test.py ... --tta`, 50.9): three GN 4conv1fc box stages (IoU 0.5 /
# 0.6 / 0.7) and the GN mask head.
norm_cfg = dict(type='GN', num_groups=32, requires_grad=True)


# Helpers are functions: mmengine leaves functions out of the resolved config.
def box_stage(target_stds: list) -> dict:
    return dict(
        type='Shared4Conv1FCBBoxHead',
        in_channels=256,
        conv_out_channels=256,
        fc_out_channels=1024,
        roi_feat_size=7,
        num_classes=80,
        norm_cfg=norm_cfg,
        bbox_coder=dict(
            type='DeltaXYWHBBoxCoder', target_means=[0.0, 0.0, 0.0, 0.0], target_stds=target_stds
        ),
        reg_class_agnostic=True,
        loss_cls=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0),
        loss_bbox=dict(type='SmoothL1Loss', beta=1.0, loss_weight=1.0),
    )


def rcnn_stage(iou: float) -> dict:
    return dict(
        assigner=dict(
            type='MaxIoUAssigner',
            pos_iou_thr=iou,
            neg_iou_thr=iou,
            min_pos_iou=iou,
            match_low_quality=False,
            ignore_iof_thr=-1,
        ),
        sampler=dict(
            type='RandomSampler',
            num=512,
            pos_fraction=0.25,
            neg_pos_ub=-1,
            add_gt_as_proposals=True,
        ),
        mask_size=28,
        pos_weight=-1,
        debug=False,
    )


model = dict(
    type='CascadeRCNN',
    backbone=dict(type='ResNeXt', depth=152, groups=32, base_width=8),
    roi_head=dict(
        _delete_=True,
        type='CascadeRoIHead',
        num_stages=3,
        stage_loss_weights=[1, 0.5, 0.25],
        bbox_roi_extractor=dict(
            type='SingleRoIExtractor',
            roi_layer=dict(type='RoIAlign', output_size=7, sampling_ratio=0),
            out_channels=256,
            featmap_strides=[4, 8, 16, 32],
        ),
        bbox_head=[
            box_stage([0.1, 0.1, 0.2, 0.2]),
            box_stage([0.05, 0.05, 0.1, 0.1]),
            box_stage([0.033, 0.033, 0.067, 0.067]),
        ],
        mask_roi_extractor=dict(
            type='SingleRoIExtractor',
            roi_layer=dict(type='RoIAlign', output_size=14, sampling_ratio=0),
            out_channels=256,
            featmap_strides=[4, 8, 16, 32],
        ),
        mask_head=dict(
            type='FCNMaskHead',
            num_convs=4,
            in_channels=256,
            conv_out_channels=256,
            num_classes=80,
            norm_cfg=norm_cfg,
            loss_mask=dict(type='CrossEntropyLoss', use_mask=True, loss_weight=1.0),
        ),
    ),
    train_cfg=dict(rcnn=[rcnn_stage(iou) for iou in (0.5, 0.6, 0.7)]),
)
