# The SyncBN pretrained arm's model: the SyncBN model (mask-rcnn_r50_fpn_syncbn-all.py,
# whose settings it repeats: a third inheritance level would put the leaves 4 files
# deep) fine-tuned from torchvision's ImageNet ResNet-50, the file mmengine's
# torchvision://resnet50 names (mmengine/hub/torchvision_0.12.json), by URL so that no
# torchvision is needed; stem and res2 frozen as in Detectron2 fine-tuning (FREEZE_AT 2).
# An R101 leaf sets depth=101 and the resnet101 file.
_base_ = './mask-rcnn_r50_fpn_gn-all.py'

norm_cfg = dict(_delete_=True, type='SyncBN', requires_grad=True)
model = dict(
    data_preprocessor=dict(
        mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], bgr_to_rgb=True
    ),
    backbone=dict(
        norm_cfg=norm_cfg,
        frozen_stages=1,
        init_cfg=dict(
            _delete_=True,  # the scratch base has init_cfg=None
            type='Pretrained',
            checkpoint='https://download.pytorch.org/models/resnet50-0676ba61.pth',
        ),
    ),
    neck=dict(norm_cfg=norm_cfg),
    roi_head=dict(bbox_head=dict(norm_cfg=norm_cfg), mask_head=dict(norm_cfg=norm_cfg)),
)
