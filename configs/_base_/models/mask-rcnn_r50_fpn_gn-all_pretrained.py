# The pretrained arm's model: the GN model fine-tuned from the GN ImageNet model
# (Detectron's R-50-GN.pkl), with the stem and res2 frozen as in Detectron/Detectron2
# fine-tuning (TRAIN.FREEZE_AT 2; configs/rethinking/README.md). An R101 leaf sets
# depth=101 and the checkpoint open-mmlab://detectron/resnet101_gn.
_base_ = './mask-rcnn_r50_fpn_gn-all.py'

model = dict(
    backbone=dict(
        frozen_stages=1,
        init_cfg=dict(
            _delete_=True,  # the scratch base has init_cfg=None
            type='Pretrained',
            checkpoint='open-mmlab://detectron/resnet50_gn',
        ),
    )
)
