_base_ = './faster-rcnn_r50-scratch_fpn_gn-all_3x_coco.py'

# 6x = 6 x 90k = 540k iterations at batch 16; LR drops at the last 60k and 20k
train_cfg = dict(max_iters=540000)
param_scheduler = dict(milestones=[480000, 520000])
