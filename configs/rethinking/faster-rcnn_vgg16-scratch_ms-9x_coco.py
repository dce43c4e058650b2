_base_ = [
    '../_base_/models/faster-rcnn_vgg16.py',
    '../_base_/datasets/coco_detection_ms-640-800.py',
    '../_base_/schedules/rethinking_9x.py',
    '../_base_/default_runtime.py',
]

# VGG-16 Faster R-CNN from scratch, no BN/GN, at the pretrained arm's best length.
