_base_ = [
    '../_base_/models/mask-rcnn_r50_fpn_syncbn-all_lsj_pretrained.py',
    '../_base_/datasets/coco_instance_lsj-1024.py',
    '../_base_/schedules/lsj_100e.py',
    '../_base_/default_runtime.py',
]

# Pretrained arm: the model base loads the ImageNet model (here torchvision's
# ResNet-101) and freezes the stem and res2 as Detectron did.
model = dict(
    backbone=dict(
        depth=101,
        init_cfg=dict(checkpoint='https://download.pytorch.org/models/resnet101-63fe2227.pth'),
    )
)
default_hooks = dict(arm_guard=dict(arm='pretrained'), sync_norm=dict(type='SyncNormHook'))
