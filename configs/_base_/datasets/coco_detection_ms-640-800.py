# Scale augmentation for box-only arms: COCO detection with the short side sampled from
# [640, 800] for training (the paper's "train aug" range, coco_instance_ms-640-800.py);
# testing stays at 800.
_base_ = './coco_detection.py'

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='RandomResize', scale=[(1333, 640), (1333, 800)], keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
