# 35k COCO train2017 images (paper Sec. 5.2) with the scale augmentation the paper's
# grid search chose for them: the short side sampled from [512, 800]. Make the file with
#   python tools/make_coco_subset.py data/coco/annotations/instances_train2017.json \
#       --num-images 35000 --seed 0
_base_ = './coco_instance.py'

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='RandomResize', scale=[(1333, 512), (1333, 800)], keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]
train_dataloader = dict(
    dataset=dict(ann_file='annotations/instances_train2017_35k_seed0.json', pipeline=train_pipeline)
)
