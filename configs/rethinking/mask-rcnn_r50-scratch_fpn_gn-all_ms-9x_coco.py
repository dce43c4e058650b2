_base_ = './mask-rcnn_r50-scratch_fpn_gn-all_1x_coco.py'

# "Train aug" (paper Table 3): the short side is sampled from [640, 800] for training.
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='RandomResize', scale=[(1333, 640), (1333, 800)], keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))

# 9x = 9 x 90k = 810k iterations at batch 16; LR drops at the last 60k and 20k
# (Detectron2's scratch 9x runs this at batch 64: see --auto-scale-schedule)
train_cfg = dict(max_iters=810000)
param_scheduler = dict(milestones=[750000, 790000])
