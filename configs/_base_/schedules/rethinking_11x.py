_base_ = './rethinking_1x.py'

# 11x = 11 x 90k = 990k iterations at batch 16; LR drops at the last 60k and 20k
train_cfg = dict(max_iters=990000)
param_scheduler = dict(milestones=[930000, 970000])
