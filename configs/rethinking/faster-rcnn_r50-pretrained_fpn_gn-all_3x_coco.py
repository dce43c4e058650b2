_base_ = './faster-rcnn_r50-scratch_fpn_gn-all_3x_coco.py'

model = dict(
    backbone=dict(
        init_cfg=dict(
            _delete_=True,  # the scratch base has init_cfg=None
            type='Pretrained',
            checkpoint='open-mmlab://detectron/resnet50_gn')))
default_hooks = dict(arm_guard=dict(arm='pretrained'))
