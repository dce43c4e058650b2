_base_ = [
    '../_base_/models/faster-rcnn_r50_fpn_gn-all_pretrained.py',
    '../_base_/datasets/voc0712.py',
    '../_base_/schedules/rethinking_1x.py',
    '../_base_/default_runtime.py',
]

# PASCAL VOC, pretrained: 18k iterations at batch 16 (82.7 mAP in the paper); drops at
# 2/3 and 8/9 of the run (our choice, as for scratch): 12k and 16k.
train_cfg = dict(max_iters=18000, val_interval=2000)
param_scheduler = dict(milestones=[12000, 16000])
# Pretrained arm: the model base loads the GN ImageNet model and freezes the stem and
# res2 as Detectron did; R101 here.
model = dict(
    backbone=dict(depth=101, init_cfg=dict(checkpoint='open-mmlab://detectron/resnet101_gn')),
    roi_head=dict(bbox_head=dict(num_classes=20)),
)
default_hooks = dict(arm_guard=dict(arm='pretrained'), checkpoint=dict(interval=2000))
