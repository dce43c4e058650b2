# COCO person keypoints (person_keypoints_{train,val}2017.json: one class, 17 keypoints),
# drawn by iteration like coco_detection.py; short side 800, long side <= 1333, flip only
# (paper Sec. 4). Keypoints are loaded beside the boxes and moved with the image when
# packed (mmrethink/datasets/keypoint_transforms.py); a flip swaps left and right
# keypoints by the dataset's flip map (CocoKeypointDataset's meta).
_base_ = './coco_detection.py'

dataset_type = 'CocoKeypointDataset'
train_pipeline = [
    dict(type='LoadImageFromFile', backend_args={{_base_.backend_args}}),
    dict(type='LoadKeypointAnnotations', with_bbox=True),
    dict(type='Resize', scale=(1333, 800), keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackKeypointDetInputs'),
]
train_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        ann_file='annotations/person_keypoints_train2017.json',
        # Detectron2's DATALOADER.FILTER_EMPTY_ANNOTATIONS with
        # MODEL.ROI_KEYPOINT_HEAD.MIN_KEYPOINTS_PER_IMAGE = 1.
        filter_cfg=dict(filter_empty_gt=True, min_size=32, min_keypoints_per_image=1),
        pipeline=train_pipeline,
    )
)
val_dataloader = dict(
    dataset=dict(type=dataset_type, ann_file='annotations/person_keypoints_val2017.json')
)
test_dataloader = val_dataloader
val_evaluator = dict(
    type='CocoKeypointMetric',
    ann_file='data/coco/annotations/person_keypoints_val2017.json',
    metric=['keypoints', 'bbox'],
)
test_evaluator = val_evaluator
