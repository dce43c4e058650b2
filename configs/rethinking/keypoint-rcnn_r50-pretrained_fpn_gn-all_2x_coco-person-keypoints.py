_base_ = [
    '../_base_/models/keypoint-rcnn_r50_fpn_gn-all.py',
    '../_base_/datasets/coco_person_keypoints.py',
    '../_base_/schedules/rethinking_2x.py',
    '../_base_/default_runtime.py',
]

# Pretrained arm: the scratch model fine-tuned from the GN ImageNet model with the stem
# and res2 frozen, as mask-rcnn_r50_fpn_gn-all_pretrained.py does (Detectron's
# TRAIN.FREEZE_AT 2). Written here, not in a model base: inheriting either model base
# from the other would put this leaf 4 pack files deep.
model = dict(
    backbone=dict(
        frozen_stages=1,
        init_cfg=dict(
            _delete_=True,  # the scratch base has init_cfg=None
            type='Pretrained',
            checkpoint='open-mmlab://detectron/resnet50_gn',
        ),
    )
)
default_hooks = dict(arm_guard=dict(arm='pretrained'))
