_base_ = './mask-rcnn_r50-scratch_fpn_gn-all_ms-9x_coco.py'

# ResNeXt-152 32x8d from scratch with train aug (paper Table 3, 46.4 box AP).
model = dict(backbone=dict(type='ResNeXt', depth=152, groups=32, base_width=8))
