_base_ = [
    '../_base_/models/mask-rcnn_r50_fpn_gn-all.py',
    '../_base_/datasets/coco_instance_ms-640-800.py',
    '../_base_/schedules/rethinking_9x.py',
    '../_base_/default_runtime.py',
]

# Scratch with "train aug" (paper Table 3), 9x (Detectron2 runs its scratch 9x at
# batch 64: tools/train.py --auto-scale-schedule gives the same images seen).
