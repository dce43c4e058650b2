_base_ = '../rethinking/mask-rcnn_r50-scratch_fpn_gn-all_1x_coco.py'

# 35k COCO train2017 images (paper Sec. 5.2). Make the file with
#   python tools/make_coco_subset.py data/coco/annotations/instances_train2017.json \
#       --num-images 35000 --seed 0
# The paper re-ran its grid search for 35k and used the same settings for both arms:
# scale augmentation [512, 800], lr 0.04 and decay to 0.02x. It does not say how the
# 0.02x is split; we read it as two equal drops, gamma = sqrt(0.02) = 0.1414.
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='RandomResize', scale=[(1333, 512), (1333, 800)], keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')
]
train_dataloader = dict(
    dataset=dict(ann_file='annotations/instances_train2017_35k_seed0.json',
                 pipeline=train_pipeline))
optim_wrapper = dict(optimizer=dict(lr=0.04))

# 6x = 6 x 90k = 540k iterations at batch 16; LR drops at the last 60k and 20k
train_cfg = dict(max_iters=540000)
param_scheduler = dict(milestones=[480000, 520000], gamma=0.1414)
