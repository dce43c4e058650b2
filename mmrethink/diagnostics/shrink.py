"""A toy-width copy of a detector config, for CPU machines (tests and benchmarks)."""

import copy
from typing import Any, Dict

from mmengine.config import Config

from mmrethink.utils.configs import DATALOADERS, as_list, typed_dicts

# Transforms whose sizes set the image size, and their size keys.
SIZED_TRANSFORMS = ('Resize', 'RandomResize', 'RandomChoiceResize', 'RandomCrop')
SIZE_KEYS = ('scale', 'scales', 'crop_size')
# The short side of the paper's images (Resize to 1333 x 800).
PAPER_SHORT_SIDE = 800


def shrink_model(model: Dict) -> Dict:
    """Same family and heads at toy width: ResNet-18 with 16 base channels, 32-channel
    FPN and heads (the keypoint head's 512 channels too), 8 GN groups (a VGG body at 8
    base channels, so 64 at conv5, and its fcs at 64), fewer sampled RoIs.
    Architecture-level settings (norm types, head types, number of stages, losses) are
    kept."""
    model = copy.deepcopy(model)
    for norm_cfg in typed_dicts(model, 'GN'):
        norm_cfg['num_groups'] = 8
    if model.backbone.type == 'VGGBody':
        model.backbone.update(base_channels=8)
        features = 64  # conv5 of the body: 8 x 8
    else:
        for key in ('groups', 'base_width'):
            model.backbone.pop(key, None)
        model.backbone.update(type='ResNet', depth=18, base_channels=16)
        model.neck.update(in_channels=[16, 32, 64, 128], out_channels=32)
        features = 32
    model.rpn_head.update(in_channels=features, feat_channels=32)
    roi = model.roi_head
    roi.bbox_roi_extractor.out_channels = features
    for head in as_list(roi.bbox_head):
        head.update(in_channels=features, conv_out_channels=32, fc_out_channels=64)
    if roi.get('mask_head'):
        roi.mask_roi_extractor.out_channels = 32
        roi.mask_head.update(in_channels=32, conv_out_channels=32)
    if roi.get('keypoint_head'):
        roi.keypoint_roi_extractor.out_channels = 32
        roi.keypoint_head.update(in_channels=32, conv_out_channels=32)
    model.train_cfg.rpn.sampler.num = 64
    for stage in as_list(model.train_cfg.rcnn):
        stage.sampler.num = 32
    return model


def _scaled(value: Any, factor: float) -> Any:
    if isinstance(value, (list, tuple)):
        return type(value)(_scaled(v, factor) for v in value)
    return max(1, round(value * factor)) if isinstance(value, int) else value


def shrink_images(cfg: Config, short_side: int) -> None:
    """Scale every image size of ``cfg`` in place (resizes, crops, fixed-size padding,
    the test-time augmentation's views) by ``short_side / 800``, keeping each transform
    and its ranges: a multi-scale pipeline stays multi-scale, a crop stays a crop, at
    toy size."""
    factor = short_side / PAPER_SHORT_SIDE
    for split in (*DATALOADERS, 'tta_pipeline'):
        for step in typed_dicts(cfg.get(split) or {}, *SIZED_TRANSFORMS):
            for key in SIZE_KEYS:
                if key in step:
                    step[key] = _scaled(step[key], factor)
    for augment in cfg.model.get('data_preprocessor', {}).get('batch_augments') or []:
        if 'size' in augment:
            augment['size'] = _scaled(augment['size'], factor)
