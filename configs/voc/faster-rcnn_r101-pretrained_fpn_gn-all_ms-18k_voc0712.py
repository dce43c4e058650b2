_base_ = [
    '../_base_/models/faster-rcnn_r50_fpn_gn-all.py',
    '../_base_/datasets/voc0712.py',
    '../_base_/schedules/rethinking_1x.py',
    '../_base_/default_runtime.py',
]

# PASCAL VOC, pretrained: 18k iterations at batch 16 (82.7 mAP in the paper); drops at
# 2/3 and 8/9 of the run (our choice, as for scratch): 12k and 16k.
train_cfg = dict(max_iters=18000, val_interval=2000)
param_scheduler = dict(milestones=[12000, 16000])
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
    ),
    roi_head=dict(bbox_head=dict(num_classes=20)),
)
default_hooks = dict(arm_guard=dict(arm='pretrained'), checkpoint=dict(interval=2000))
