# Mask R-CNN R50-FPN of today's from-scratch recipe (detectron2/configs/new_baselines/
# mask_rcnn_R_50_FPN_100ep_LSJ.py at 02b5c4e; configs/modern/README.md): the GN model
# (mask-rcnn_r50_fpn_gn-all.py: 4conv1fc box head, 4-conv mask head, Detectron2Init)
# with SyncBN in backbone, FPN, box and mask heads, a 2-conv RPN head and every batch
# padded to the LSJ crop. As it stands this is the scratch arm (no checkpoint, nothing
# frozen); mask-rcnn_r50_fpn_syncbn-all_lsj_pretrained.py is its twin. Both repeat the
# settings of mask-rcnn_r50_fpn_syncbn-all.py: a third level would put leaves 4 deep.
_base_ = './mask-rcnn_r50_fpn_gn-all.py'

# torch's SyncBatchNorm in the heads too (not mmcv's MMSyncBN): torch 2.x gives an empty
# RoI batch zero weight in the statistics and still joins the collectives, and weights
# each GPU by its sample count; configs/modern/README.md has what was checked and where.
# EmptySafeSyncBN: torch's SyncBN, also under mixed precision on a GPU without RoIs
# (mmrethink/models/empty_safe_sync_bn.py).
norm_cfg = dict(_delete_=True, type='EmptySafeSyncBN', requires_grad=True)
model = dict(
    # pytorch-style input (RGB, ImageNet mean/std) in both arms, for torchvision's BN
    # ImageNet ResNets that the pretrained twin fine-tunes (configs/modern/README.md,
    # "Caffe or pytorch style").
    data_preprocessor=dict(
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        # The LSJ crop (datasets/coco_instance_lsj-1024.py) is padded to 1024 x 1024,
        # after normalization, as MMDetection's strong baselines do.
        batch_augments=[dict(type='BatchFixedSizePad', size=(1024, 1024), pad_mask=True)],
    ),
    backbone=dict(norm_cfg=norm_cfg),
    neck=dict(norm_cfg=norm_cfg),
    # Detectron2: proposal_generator.head.conv_dims = [-1, -1] (two 3x3 convs, no norm).
    rpn_head=dict(num_convs=2),
    roi_head=dict(bbox_head=dict(norm_cfg=norm_cfg), mask_head=dict(norm_cfg=norm_cfg)),
)
