_base_ = './rethinking_1x.py'

# 6x = 6 x 90k = 540k iterations at batch 16; LR drops at the last 60k and 20k
train_cfg = dict(max_iters=540000)
param_scheduler = dict(milestones=[480000, 520000])
