_base_ = [
    '../_base_/models/mask-rcnn_r50_fpn_syncbn-all_lsj.py',
    '../_base_/datasets/coco_instance_lsj-1024.py',
    '../_base_/schedules/lsj_100e_coco-10k.py',
    '../_base_/default_runtime.py',
]

# The subset and its schedule: ../_base_/schedules/lsj_100e_coco-10k.py.
train_dataloader = dict(dataset=dict(ann_file='annotations/instances_train2017_10k_seed0.json'))
# Scratch arm: random init (Detectron2Init), no checkpoint, nothing frozen.
# SyncBN statistics are synced across GPUs before each evaluation.
default_hooks = dict(sync_norm=dict(type='SyncNormHook'))
