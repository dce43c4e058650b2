_base_ = [
    '../_base_/models/mask-rcnn_r50_fpn_syncbn-all_lsj.py',
    '../_base_/datasets/coco_instance_lsj-1024.py',
    '../_base_/schedules/lsj_200e.py',
    '../_base_/default_runtime.py',
]

# Scratch arm: random init (Detectron2Init), no checkpoint, nothing frozen.
# SyncBN statistics are synced across GPUs before each evaluation.
default_hooks = dict(sync_norm=dict(type='SyncNormHook'))
