# The GN model with SyncBN in its place (Detectron2's scratch/pretrained SyncBN arms).
# torch's SyncBatchNorm weights each GPU's statistics by its sample count and skips
# GPUs with no RoIs, so the heads are safe on empty RoI batches. On one process the
# runner reverts SyncBN to BN (mmrethink warns once).
_base_ = './mask-rcnn_r50_fpn_gn-all.py'

# _delete_: replace the base's GN settings (num_groups) instead of merging into them.
norm_cfg = dict(_delete_=True, type='SyncBN', requires_grad=True)
model = dict(
    # The BN ImageNet models (torchvision's ResNets) are pytorch-style: RGB, mean/std.
    data_preprocessor=dict(
        mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], bgr_to_rgb=True
    ),
    backbone=dict(norm_cfg=norm_cfg),
    neck=dict(norm_cfg=norm_cfg),
    roi_head=dict(bbox_head=dict(norm_cfg=norm_cfg), mask_head=dict(norm_cfg=norm_cfg)),
)
