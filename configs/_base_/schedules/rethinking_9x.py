_base_ = './rethinking_1x.py'

# 9x = 9 x 90k = 810k iterations at batch 16; LR drops at the last 60k and 20k
train_cfg = dict(max_iters=810000)
param_scheduler = dict(milestones=[750000, 790000])
