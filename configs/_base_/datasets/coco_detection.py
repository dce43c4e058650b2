# COCO detection, drawn by iteration like coco_instance.py.
_base_ = 'mmdet::_base_/datasets/coco_detection.py'

train_dataloader = dict(sampler=dict(type='InfiniteSampler', shuffle=True))
