# PASCAL VOC as in the paper's Sec. 5.3: train on VOC2007 trainval + VOC2012 train,
# evaluate on VOC2012 val (mmdet's voc0712 evaluates on VOC2007 test). VOC2012 trainval
# contains val, so the training side must use VOC2012 train. With "train aug" (short
# side sampled from [640, 800], as on COCO) and iteration-based loading.
_base_ = 'mmdet::_base_/datasets/voc0712.py'

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='RandomResize', scale=[(1333, 640), (1333, 800)], keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(1333, 800), keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(
        type='PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor'),
    ),
]
train_dataloader = dict(
    sampler=dict(type='InfiniteSampler', shuffle=True),
    # The iteration count sets the length; mmdet's RepeatDataset(times=3) is not needed.
    dataset=dict(
        _delete_=True,
        type='ConcatDataset',
        ignore_keys=['dataset_type'],
        datasets=[
            dict(
                type='VOCDataset',
                data_root='data/VOCdevkit/',
                ann_file=f'VOC{year}/ImageSets/Main/{split}.txt',
                data_prefix=dict(sub_data_root=f'VOC{year}/'),
                filter_cfg=dict(filter_empty_gt=True, min_size=32),
                pipeline=train_pipeline,
            )
            for year, split in ((2007, 'trainval'), (2012, 'train'))
        ],
    ),
)
val_dataloader = dict(
    dataset=dict(
        ann_file='VOC2012/ImageSets/Main/val.txt',
        data_prefix=dict(sub_data_root='VOC2012/'),
        pipeline=test_pipeline,
    )
)
test_dataloader = val_dataloader
# VOC2012's protocol: AP as the area under the whole PR curve (not 11 points).
val_evaluator = dict(type='VOCMetric', metric='mAP', eval_mode='area')
test_evaluator = val_evaluator
