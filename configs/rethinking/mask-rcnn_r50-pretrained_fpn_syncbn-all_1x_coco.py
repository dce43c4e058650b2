_base_ = './mask-rcnn_r50-scratch_fpn_syncbn-all_1x_coco.py'

# Pretrained arm: the scratch arm fine-tuned from the BN ImageNet model (torchvision), with SyncBN,
# nothing frozen; only the backbone's init differs.
model = dict(
    backbone=dict(
        init_cfg=dict(
            _delete_=True,  # the scratch base has init_cfg=None
            type='Pretrained',
            checkpoint='torchvision://resnet50')))
default_hooks = dict(arm_guard=dict(arm='pretrained'))
