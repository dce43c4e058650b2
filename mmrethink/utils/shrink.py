"""A toy-width copy of a detector config, for CPU machines (tests and benchmarks)."""

import copy
from typing import Dict

from .configs import typed_dicts


def shrink_model(model: Dict) -> Dict:
    """Same family and heads at toy width: ResNet-18 with 16 base channels, 32-channel
    FPN and heads, 8 GN groups, fewer sampled RoIs. Architecture-level settings (norm
    types, head types, number of stages, losses) are kept."""
    model = copy.deepcopy(model)
    for norm_cfg in typed_dicts(model, 'GN'):
        norm_cfg['num_groups'] = 8
    for key in ('groups', 'base_width'):
        model.backbone.pop(key, None)
    model.backbone.update(type='ResNet', depth=18, base_channels=16)
    model.neck.update(in_channels=[16, 32, 64, 128], out_channels=32)
    model.rpn_head.update(in_channels=32, feat_channels=32)
    roi = model.roi_head
    roi.bbox_roi_extractor.out_channels = 32
    heads = roi.bbox_head if isinstance(roi.bbox_head, list) else [roi.bbox_head]
    for head in heads:
        head.update(in_channels=32, conv_out_channels=32, fc_out_channels=64)
    if roi.get('mask_head'):
        roi.mask_roi_extractor.out_channels = 32
        roi.mask_head.update(in_channels=32, conv_out_channels=32)
    model.train_cfg.rpn.sampler.num = 64
    stages = (
        model.train_cfg.rcnn if isinstance(model.train_cfg.rcnn, list) else [model.train_cfg.rcnn]
    )
    for stage in stages:
        stage.sampler.num = 32
    return model
