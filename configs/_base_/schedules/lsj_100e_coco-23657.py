_base_ = './lsj_100e.py'

# 100 ep of one fifth of COCO: 23657 = 118287 / 5 train2017 images, seeded subset
# (instances_train2017_23657_seed0.json: python tools/make_coco_subset.py
# data/coco/annotations/instances_train2017.json --num-images 23657 --seed 0).
# Images-seen rule (mmrethink/engine/schedule_rules.py LSJ_RULE.schedule):
# as many passes over each training image as 100 ep on COCO (184375 x 64 / 118287 =
# 99.76), at the same batch 64, so iterations, drops and the evaluation interval
# scale by 23657 / 118287: 184375 -> 36874, 163889 -> 32777, 177546 -> 35509,
# 5000 -> 1000. The warm-up stays 500 iterations: it depends on the batch and LR, not
# on the dataset's size (LSJ_RULE.schedule keeps it too).
train_cfg = dict(max_iters=36874, val_interval=1000)
param_scheduler = dict(milestones=[32777, 35509])
