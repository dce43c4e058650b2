_base_ = './mask-rcnn_r50-pretrained_fpn_gn-all_ms-6x_coco.py'

model = dict(
    backbone=dict(
        depth=101,
        init_cfg=dict(checkpoint='open-mmlab://detectron/resnet101_gn')))
