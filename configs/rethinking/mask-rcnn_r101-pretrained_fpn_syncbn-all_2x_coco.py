_base_ = [
    '../_base_/models/mask-rcnn_r50_fpn_syncbn-all_pretrained.py',
    '../_base_/datasets/coco_instance.py',
    '../_base_/schedules/rethinking_2x.py',
    '../_base_/default_runtime.py',
]

# Pretrained arm: the model base loads the ImageNet model and freezes the stem
# and res2 as Detectron did.
model = dict(
    backbone=dict(
        depth=101,
        init_cfg=dict(checkpoint='https://download.pytorch.org/models/resnet101-63fe2227.pth'),
    )
)
default_hooks = dict(arm_guard=dict(arm='pretrained'), sync_norm=dict(type='SyncNormHook'))
