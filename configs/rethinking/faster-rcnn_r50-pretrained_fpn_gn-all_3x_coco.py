_base_ = [
    '../_base_/models/faster-rcnn_r50_fpn_gn-all_pretrained.py',
    '../_base_/datasets/coco_detection.py',
    '../_base_/schedules/rethinking_3x.py',
    '../_base_/default_runtime.py',
]

# Pretrained arm: the model base loads the GN ImageNet model and freezes the stem and
# res2 as Detectron did.
default_hooks = dict(arm_guard=dict(arm='pretrained'))
