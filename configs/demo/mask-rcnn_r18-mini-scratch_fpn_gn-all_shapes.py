_base_ = [
    '../_base_/models/mask-rcnn_r50_fpn_gn-all.py',
    '../_base_/datasets/shapes_instance.py',
    '../_base_/schedules/rethinking_1x.py',
    '../_base_/default_runtime.py',
]

# The scratch arm of the CPU mini-reproduction (tools/demo.py): the COCO arms' model
# (GN everywhere, 4conv1fc box head, 4-conv mask head, Detectron2Init, nothing frozen),
# schedule rule and hooks; only sizes differ. 8 GN groups: the mini widths (16-128
# channels) are not all multiples of 32.
norm_cfg = dict(type='GN', num_groups=8, requires_grad=True)
model = dict(
    backbone=dict(depth=18, base_channels=16, norm_cfg=norm_cfg),
    neck=dict(in_channels=[16, 32, 64, 128], out_channels=64, norm_cfg=norm_cfg),
    rpn_head=dict(
        in_channels=64,
        feat_channels=64,
        # Shapes are 10-120 px: anchors of 16-256 px on strides 4-64.
        anchor_generator=dict(scales=[4]),
    ),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=64),
        bbox_head=dict(
            in_channels=64,
            conv_out_channels=64,
            fc_out_channels=256,
            num_classes=4,
            norm_cfg=norm_cfg,
        ),
        mask_roi_extractor=dict(out_channels=64),
        mask_head=dict(in_channels=64, conv_out_channels=64, num_classes=4, norm_cfg=norm_cfg),
    ),
    train_cfg=dict(
        rpn=dict(sampler=dict(num=128)),
        rpn_proposal=dict(nms_pre=600, max_per_img=300),
        rcnn=dict(sampler=dict(num=64)),
    ),
    test_cfg=dict(rpn=dict(nms_pre=300, max_per_img=100), rcnn=dict(max_per_img=30)),
)

# The paper's rule at 1/1000 of COCO's length: 1x = 90 iterations; the default 3x
# = 270 iterations at batch 4, LR drops at the last 60 and 20 (210, 250); warm-up 30.
# lr 0.02 as in the paper (not scaled to batch 4: the mini model trains faster so).
train_cfg = dict(max_iters=270, val_interval=30)
param_scheduler = dict(warmup_iters=30, milestones=[210, 250])
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(interval=30, max_keep_ckpts=2, save_best='coco/bbox_mAP'),
)
