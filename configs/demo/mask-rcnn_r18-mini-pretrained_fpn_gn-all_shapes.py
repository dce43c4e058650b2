_base_ = './mask-rcnn_r18-mini-scratch_fpn_gn-all_shapes.py'

# The pretrained arm: the same model fine-tuned from the backbone that
# classifier_r18-mini_shapes-cls.py pre-trains (tools/demo.py passes its path), loaded
# through the same init_cfg path as the COCO configs' ImageNet models, with the stem
# and res2 frozen like theirs.
model = dict(
    backbone=dict(
        frozen_stages=1,
        init_cfg=dict(
            _delete_=True,  # the scratch base has init_cfg=None
            type='Pretrained',
            checkpoint='work_dirs/demo/pretrain/iter_600.pth',
            prefix='backbone.',
        ),
    )
)
default_hooks = dict(arm_guard=dict(arm='pretrained'))
