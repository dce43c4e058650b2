_base_ = [
    '../_base_/models/faster-rcnn_vgg16_pretrained.py',
    '../_base_/datasets/coco_detection_ms-640-800.py',
    '../_base_/schedules/rethinking_11x.py',
    '../_base_/default_runtime.py',
]

# VGG-16 Faster R-CNN fine-tuned from ImageNet, at the scratch arm's best length.
default_hooks = dict(arm_guard=dict(arm='pretrained'))
