# The pretrained twin of mask-rcnn_r50_fpn_syncbn-all_lsj.py (whose settings it repeats:
# a third inheritance level would put the leaves 4 files deep; tests/test_modern.py
# checks that the two resolve to the same model but for the backbone's init_cfg and
# frozen_stages): fine-tuned from torchvision's ImageNet ResNet-50, the file mmengine's
# torchvision://resnet50 names, by URL so that no torchvision is needed, with the stem
# and res2 frozen as the paper's pretrained arms (Detectron FREEZE_AT 2). An R101 leaf
# sets depth=101 and the resnet101 file.
_base_ = './mask-rcnn_r50_fpn_gn-all.py'

# EmptySafeSyncBN: torch's SyncBN, also under mixed precision on a GPU without RoIs
# (mmrethink/models/empty_safe_sync_bn.py).
norm_cfg = dict(_delete_=True, type='EmptySafeSyncBN', requires_grad=True)
model = dict(
    data_preprocessor=dict(
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        batch_augments=[dict(type='BatchFixedSizePad', size=(1024, 1024), pad_mask=True)],
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
    rpn_head=dict(num_convs=2),
    roi_head=dict(bbox_head=dict(norm_cfg=norm_cfg), mask_head=dict(norm_cfg=norm_cfg)),
)
