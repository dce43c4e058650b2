_base_ = './mask-rcnn_r50-scratch_fpn_gn-all_ms-512-800-6x_coco-35k.py'

# Both arms reach 36.3 box AP at 6x in the paper.
model = dict(
    backbone=dict(
        init_cfg=dict(
            _delete_=True,  # the scratch base has init_cfg=None
            type='Pretrained',
            checkpoint='open-mmlab://detectron/resnet50_gn')))
default_hooks = dict(arm_guard=dict(arm='pretrained'))
