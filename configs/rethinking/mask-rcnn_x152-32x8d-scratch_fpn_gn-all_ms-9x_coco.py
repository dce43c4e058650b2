_base_ = [
    '../_base_/models/mask-rcnn_r50_fpn_gn-all.py',
    '../_base_/datasets/coco_instance_ms-640-800.py',
    '../_base_/schedules/rethinking_9x.py',
    '../_base_/default_runtime.py',
]

# ResNeXt-152 32x8d from scratch with train aug (paper Table 3, 46.4 box AP).
model = dict(backbone=dict(type='ResNeXt', depth=152, groups=32, base_width=8))
