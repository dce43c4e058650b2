_base_ = [
    '../_base_/models/faster-rcnn_r50_fpn_gn-all.py',
    '../_base_/datasets/coco_detection.py',
    '../_base_/schedules/rethinking_3x.py',
    '../_base_/default_runtime.py',
]

# MMDetection configs/scratch Faster R-CNN, on the paper's schedule rule.
