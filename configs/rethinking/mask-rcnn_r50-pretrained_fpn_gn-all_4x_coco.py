_base_ = './mask-rcnn_r50-pretrained_fpn_gn-all_1x_coco.py'

# 4x = 4 x 90k = 360k iterations at batch 16; LR drops at the last 60k and 20k
train_cfg = dict(max_iters=360000)
param_scheduler = dict(milestones=[300000, 340000])
