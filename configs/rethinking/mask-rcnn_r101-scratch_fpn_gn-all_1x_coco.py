_base_ = './mask-rcnn_r50-scratch_fpn_gn-all_1x_coco.py'

model = dict(backbone=dict(depth=101))
