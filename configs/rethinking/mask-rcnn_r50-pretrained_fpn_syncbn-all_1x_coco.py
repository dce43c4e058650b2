_base_ = [
    '../_base_/models/mask-rcnn_r50_fpn_syncbn-all.py',
    '../_base_/datasets/coco_instance.py',
    '../_base_/schedules/rethinking_1x.py',
    '../_base_/default_runtime.py'
]

# Pretrained arm: the scratch arm fine-tuned from the BN ImageNet model (torchvision), with SyncBN,
# nothing frozen; only the backbone's init differs.
model = dict(
    backbone=dict(
        init_cfg=dict(
            _delete_=True,  # the base, the scratch arm, has init_cfg=None
            type='Pretrained',
            checkpoint='torchvision://resnet50')))
default_hooks = dict(arm_guard=dict(arm='pretrained'), sync_norm=dict(type='SyncNormHook'))
