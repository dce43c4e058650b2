_base_ = [
    '../_base_/models/mask-rcnn_r50_fpn_gn-all.py',
    '../_base_/datasets/coco_instance_ms-640-800.py',
    '../_base_/schedules/rethinking_6x.py',
    '../_base_/default_runtime.py',
]

# Train aug, pretrained: the paper trains it 6x (scratch 9x), each arm's best.
# Pretrained arm: fine-tuned from the GN ImageNet model; the stem and res2 frozen
# as in Detectron/Detectron2 fine-tuning (FREEZE_AT 2; configs/rethinking/README.md).
model = dict(
    backbone=dict(
        depth=101,
        frozen_stages=1,
        init_cfg=dict(
            _delete_=True,  # the base, the scratch arm, has init_cfg=None
            type='Pretrained',
            checkpoint='open-mmlab://detectron/resnet101_gn',
        ),
    )
)
default_hooks = dict(arm_guard=dict(arm='pretrained'))
