_base_ = [
    '../_base_/models/faster-rcnn_vgg16.py',
    '../_base_/datasets/coco_detection_ms-640-800.py',
    '../_base_/schedules/rethinking_11x.py',
    '../_base_/default_runtime.py',
]

# VGG-16 Faster R-CNN from scratch, no BN/GN: the paper's best scratch length (35.2 box AP).
