_base_ = './mask-rcnn_r50-scratch_fpn_gn-all_ms-9x_coco.py'

# Pretrained arm with train aug: the paper trains it 6x (scratch 9x), each arm's best.
model = dict(
    backbone=dict(
        init_cfg=dict(
            _delete_=True,  # the scratch base has init_cfg=None
            type='Pretrained',
            checkpoint='open-mmlab://detectron/resnet50_gn')))
default_hooks = dict(arm_guard=dict(arm='pretrained'))

# 6x = 6 x 90k = 540k iterations at batch 16; LR drops at the last 60k and 20k
train_cfg = dict(max_iters=540000)
param_scheduler = dict(milestones=[480000, 520000])
