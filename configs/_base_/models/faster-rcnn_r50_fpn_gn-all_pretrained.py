# The Faster R-CNN pretrained arm's model: faster-rcnn_r50_fpn_gn-all.py (the GN Mask
# R-CNN without its mask branch) fine-tuned as mask-rcnn_r50_fpn_gn-all_pretrained.py is:
# from the GN ImageNet model, stem and res2 frozen (Detectron's TRAIN.FREEZE_AT 2). Both
# settings are repeated here: inheriting either file would put the leaves 4 files deep.
# An R101 leaf sets depth=101 and the checkpoint open-mmlab://detectron/resnet101_gn.
_base_ = './mask-rcnn_r50_fpn_gn-all.py'

model = dict(
    type='FasterRCNN',
    backbone=dict(
        frozen_stages=1,
        init_cfg=dict(
            _delete_=True,  # the scratch base has init_cfg=None
            type='Pretrained',
            checkpoint='open-mmlab://detectron/resnet50_gn',
        ),
    ),
    roi_head=dict(mask_roi_extractor=None, mask_head=None),
)
