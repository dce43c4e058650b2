# Test-time augmentation, used only by `tools/test.py CONFIG CHECKPOINT --tta` (paper
# Table 3, "+ test aug"). The views are Detectron's test aug, whose code produced the
# paper's numbers (test_time_aug/e2e_mask_rcnn_R-50-FPN_2x.yaml there): the short
# side at 400 to 1200 in steps of 100 (800, the test scale, included), the long side at
# most 2000, each with and without a horizontal flip: 9 x 2 = 18 views per image.
# DetMaskTTAModel merges them by NMS (IoU 0.5, the best 100: Detectron's TEST.NMS and
# detections per image), keeping each box's mask (mmrethink/models/mask_tta.py says what
# differs from Detectron's box voting and mask averaging).
tta_model = dict(
    type='DetMaskTTAModel',
    tta_cfg=dict(nms=dict(type='nms', iou_threshold=0.5), max_per_img=100),
)
tta_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='TestTimeAug',
        transforms=[
            [dict(type='Resize', scale=(2000, s), keep_ratio=True) for s in range(400, 1201, 100)],
            [dict(type='RandomFlip', prob=1.0), dict(type='RandomFlip', prob=0.0)],
            [
                dict(
                    type='PackDetInputs',
                    meta_keys=(
                        'img_id',
                        'img_path',
                        'ori_shape',
                        'img_shape',
                        'scale_factor',
                        'flip',
                        'flip_direction',
                    ),
                )
            ],
        ],
    ),
]
