_base_ = './rethinking_1x.py'

# 4x = 4 x 90k = 360k iterations at batch 16; LR drops at the last 60k and 20k
train_cfg = dict(max_iters=360000)
param_scheduler = dict(milestones=[300000, 340000])
