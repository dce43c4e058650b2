_base_ = [
    '../_base_/models/mask-rcnn_r50_fpn_gn-all.py',
    '../_base_/datasets/coco_instance.py',
    '../_base_/schedules/rethinking_3x.py',
    '../_base_/default_runtime.py',
]

# Pretrained arm: fine-tuned from the GN ImageNet model; the stem and res2 frozen
# as in Detectron/Detectron2 fine-tuning (FREEZE_AT 2; configs/rethinking/README.md).
model = dict(
    backbone=dict(
        frozen_stages=1,
        init_cfg=dict(
            _delete_=True,  # the base, the scratch arm, has init_cfg=None
            type='Pretrained',
            checkpoint='open-mmlab://detectron/resnet50_gn',
        ),
    )
)
default_hooks = dict(arm_guard=dict(arm='pretrained'))
