_base_ = './lsj_100e.py'

# 100 ep of 10000 COCO train2017 images, seeded subset (instances_train2017_10k_seed0.json,
# the file of configs/less_data: python tools/make_coco_subset.py
# data/coco/annotations/instances_train2017.json --num-images 10000 --seed 0).
# Images-seen rule (mmrethink/engine/schedule_rules.py LSJ_RULE.schedule):
# as many passes over each training image as 100 ep on COCO (184375 x 64 / 118287 =
# 99.76), at the same batch 64, so iterations, drops and the evaluation interval
# scale by 10000 / 118287: 184375 -> 15587, 163889 -> 13855, 177546 -> 15010,
# 5000 -> 423. The warm-up stays 500 iterations: it depends on the batch and LR, not
# on the dataset's size (LSJ_RULE.schedule keeps it too).
train_cfg = dict(max_iters=15587, val_interval=423)
param_scheduler = dict(milestones=[13855, 15010])
