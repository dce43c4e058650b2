_base_ = './rethinking_1x.py'

# 3x = 3 x 90k = 270k iterations at batch 16; LR drops at the last 60k and 20k
train_cfg = dict(max_iters=270000)
param_scheduler = dict(milestones=[210000, 250000])
