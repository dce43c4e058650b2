_base_ = './mask-rcnn_r101-scratch_fpn_gn-all_1x_coco.py'

# Pretrained arm: the scratch arm fine-tuned from the GN ImageNet model,
# nothing frozen; only the backbone's init differs.
model = dict(
    backbone=dict(
        init_cfg=dict(
            _delete_=True,  # the scratch base has init_cfg=None
            type='Pretrained',
            checkpoint='open-mmlab://detectron/resnet101_gn')))
default_hooks = dict(arm_guard=dict(arm='pretrained'))
