_base_ = [
    '../_base_/models/faster-rcnn_r50_fpn_gn-all.py',
    '../_base_/datasets/voc0712.py',
    '../_base_/schedules/rethinking_1x.py',
    '../_base_/default_runtime.py',
]

# PASCAL VOC (paper Sec. 5.3): Faster R-CNN R101-FPN GN with train aug (datasets base).
# Scratch: 144k iterations at batch 16 (77.6 mAP in the paper, which does not catch up
# with the pretrained 82.7).
model = dict(backbone=dict(depth=101), roi_head=dict(bbox_head=dict(num_classes=20)))
# The paper gives only the lengths (18k / 144k). Our choice: drops at 2/3 and 8/9 of the
# run, the fractions of Detectron's 1x (60k and 80k of 90k): 96k and 128k of 144k.
train_cfg = dict(max_iters=144000, val_interval=8000)
param_scheduler = dict(milestones=[96000, 128000])
default_hooks = dict(checkpoint=dict(interval=8000))
