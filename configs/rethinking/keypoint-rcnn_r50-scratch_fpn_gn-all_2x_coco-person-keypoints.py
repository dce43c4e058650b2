_base_ = [
    '../_base_/models/keypoint-rcnn_r50_fpn_gn-all.py',
    '../_base_/datasets/coco_person_keypoints.py',
    '../_base_/schedules/rethinking_2x.py',
    '../_base_/default_runtime.py',
]

# Scratch arm: random init (Detectron2Init), no checkpoint, nothing frozen.
