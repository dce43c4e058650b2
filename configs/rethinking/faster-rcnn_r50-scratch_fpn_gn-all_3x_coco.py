_base_ = [
    '../_base_/models/faster-rcnn_r50_fpn_gn-all.py',
    '../_base_/datasets/coco_detection.py',
    '../_base_/schedules/rethinking_schedule.py', '../_base_/default_runtime.py'
]

# 3x = 3 x 90k = 270k iterations at batch 16; LR drops at the last 60k and 20k
train_cfg = dict(max_iters=270000)
param_scheduler = dict(milestones=[210000, 250000])
