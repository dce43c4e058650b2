# Large-scale jitter (LSJ) on COCO instance segmentation, as MMDetection
# (mmdetection/configs/common/lsj-100e_coco-instance.py) writes Detectron2's
# ResizeScale(0.1, 2.0, 1024) + FixedSizeCrop(1024) + flip: resize to 0.1-2.0 x 1024
# (aspect kept), crop 1024 x 1024 (boxes recomputed from the masks; crops without
# objects kept), drop boxes the crop left degenerate, flip. The model's
# BatchFixedSizePad pads each image to 1024 x 1024. Iteration-based like the rest of
# the pack (coco_instance.py: InfiniteSampler); testing stays at 1333 x 800 (Detectron2
# and MMDetection both).
_base_ = './coco_instance.py'

image_size = (1024, 1024)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='RandomResize', scale=image_size, ratio_range=(0.1, 2.0), keep_ratio=True),
    dict(
        type='RandomCrop',
        crop_type='absolute_range',
        crop_size=image_size,
        recompute_bbox=True,
        allow_negative_crop=True,
    ),
    dict(type='FilterAnnotations', min_gt_bbox_wh=(1e-2, 1e-2)),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]
train_dataloader = dict(
    # 8 images per GPU, 8 GPUs: the total batch 64 of schedules/lsj_100e.py.
    batch_size=8,
    # Every image is 1024 x 1024 after the crop and the pad: no aspect-ratio grouping
    # (MMDetection's LSJ base has none).
    batch_sampler=None,
    dataset=dict(pipeline=train_pipeline),
)
