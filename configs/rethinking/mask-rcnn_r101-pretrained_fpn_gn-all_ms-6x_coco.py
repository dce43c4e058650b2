_base_ = [
    '../_base_/models/mask-rcnn_r50_fpn_gn-all_pretrained.py',
    '../_base_/datasets/coco_instance_ms-640-800.py',
    '../_base_/schedules/rethinking_6x.py',
    '../_base_/default_runtime.py',
]

# Train aug, pretrained: the paper trains it 6x (scratch 9x), each arm's best.
# Pretrained arm: the model base loads the ImageNet model and freezes the stem
# and res2 as Detectron did.
model = dict(
    backbone=dict(depth=101, init_cfg=dict(checkpoint='open-mmlab://detectron/resnet101_gn'))
)
default_hooks = dict(arm_guard=dict(arm='pretrained'))
