# COCO instance segmentation (train2017 / val2017, short side 800, long side <= 1333,
# flip only), drawn by iteration: IterBasedTrainLoop needs an endless sampler.
_base_ = 'mmdet::_base_/datasets/coco_instance.py'

train_dataloader = dict(sampler=dict(type='InfiniteSampler', shuffle=True))
