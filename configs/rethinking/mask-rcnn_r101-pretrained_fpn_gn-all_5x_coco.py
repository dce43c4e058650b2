_base_ = [
    '../_base_/models/mask-rcnn_r50_fpn_gn-all.py',
    '../_base_/datasets/coco_instance.py',
    '../_base_/schedules/rethinking_5x.py',
    '../_base_/default_runtime.py'
]

# Pretrained arm: the scratch arm fine-tuned from the GN ImageNet model,
# nothing frozen; only the backbone's init differs.
model = dict(
    backbone=dict(
        depth=101,
        init_cfg=dict(
            _delete_=True,  # the base, the scratch arm, has init_cfg=None
            type='Pretrained',
            checkpoint='open-mmlab://detectron/resnet101_gn')))
default_hooks = dict(arm_guard=dict(arm='pretrained'))
