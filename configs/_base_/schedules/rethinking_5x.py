_base_ = './rethinking_1x.py'

# 5x = 5 x 90k = 450k iterations at batch 16; LR drops at the last 60k and 20k
train_cfg = dict(max_iters=450000)
param_scheduler = dict(milestones=[390000, 430000])
