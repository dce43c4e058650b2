_base_ = [
    '../_base_/models/mask-rcnn_r50_fpn_syncbn-all.py',
    '../_base_/datasets/coco_instance.py',
    '../_base_/schedules/rethinking_3x.py',
    '../_base_/default_runtime.py',
]

# Pretrained arm: fine-tuned from the BN ImageNet model, with SyncBN; the stem and res2 frozen
# as in Detectron/Detectron2 fine-tuning (FREEZE_AT 2; configs/rethinking/README.md).
# The file mmengine's torchvision://resnet50 names (mmengine/hub/torchvision_0.12.json),
# by URL: loading it so needs no torchvision.
model = dict(
    backbone=dict(
        frozen_stages=1,
        init_cfg=dict(
            _delete_=True,  # the base, the scratch arm, has init_cfg=None
            type='Pretrained',
            checkpoint='https://download.pytorch.org/models/resnet50-0676ba61.pth',
        ),
    )
)
default_hooks = dict(arm_guard=dict(arm='pretrained'), sync_norm=dict(type='SyncNormHook'))
