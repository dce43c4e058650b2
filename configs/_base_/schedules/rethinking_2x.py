_base_ = './rethinking_1x.py'

# 2x = 2 x 90k = 180k iterations at batch 16; LR drops at the last 60k and 20k
train_cfg = dict(max_iters=180000)
param_scheduler = dict(milestones=[120000, 160000])
