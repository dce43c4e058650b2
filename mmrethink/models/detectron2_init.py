"""Initialization of a whole two-stage detector, component by component as Detectron2."""

from typing import Dict, Optional

import torch.nn as nn
from mmdet.models.backbones.resnet import BasicBlock, Bottleneck
from mmengine.model import BaseInit, caffe2_xavier_init, kaiming_init, normal_init

from mmrethink.registry import WEIGHT_INITIALIZERS
from mmrethink.utils.configs import is_checkpoint_init

NORMS = (nn.GroupNorm, nn.modules.batchnorm._BatchNorm)
CONV_RULES = ('msra', 'c2_xavier', 'rpn_normal')
# Detectron2's rule for the convolutions of each part of a detector, and the files it
# is written in (detectron2/modeling/...): backbone/resnet.py c2_msra_fill;
# backbone/fpn.py c2_xavier_fill; proposal_generator/rpn.py StandardRPNHead normal
# std 0.01; roi_heads/box_head.py and mask_head.py c2_msra_fill. Linear layers are
# c2_xavier_fill everywhere (box_head.py).
DETECTRON2_CONVS = dict(backbone='msra', neck='c2_xavier', rpn_head='rpn_normal', roi_head='msra')
# The predictors' own std (roi_heads/fast_rcnn.py FastRCNNOutputLayers, mask_head.py).
PREDICTOR_STD = dict(fc_cls=0.01, fc_reg=0.001, conv_logits=0.001)


@WEIGHT_INITIALIZERS.register_module()
class Detectron2Init(BaseInit):
    """Initialize every part of a detector that no checkpoint initializes, as Detectron2.

    The detector's ``init_cfg`` in both arms (He et al. 2019; Detectron2 is the public
    implementation closest to the paper's numbers). In a scratch arm it covers backbone,
    neck and heads; in a pretrained arm the backbone, whose ``init_cfg`` is
    ``Pretrained``, keeps its ImageNet weights and neck and heads get the very same
    init as in the scratch arm. Per part:

    * backbone and RoI heads: convolutions MSRA (Kaiming normal, ``fan_out``);
    * a module inside a part that has its own checkpoint (``init_cfg`` ``Pretrained``,
      e.g. the VGG head's fc6/fc7) keeps the checkpoint's weights;
    * FPN: Caffe2's Xavier (Kaiming uniform, ``a=1``, ``fan_in``);
    * RPN head: every convolution N(0, 0.01);
    * linear layers: Caffe2's Xavier; predictors N(0, std) from ``PREDICTOR_STD``;
    * biases 0; GroupNorm/BatchNorm weight 1, bias 0. Detectron2 leaves the last norm of
      each residual block at 1 (zero-init "hurts GN from scratch", its resnet.py), so
      ``zero_init_last_norm`` is off unless asked.

    Args:
        convs: Rule per part, overriding ``DETECTRON2_CONVS`` (one of ``CONV_RULES``);
            e.g. ``dict(neck='msra', rpn_head='msra')`` gives MSRA everywhere.
        zero_init_last_norm: Zero the weight of the last norm in each residual block.
    """

    def __init__(
        self, convs: Optional[Dict[str, str]] = None, zero_init_last_norm: bool = False, **kwargs
    ) -> None:
        super().__init__(**kwargs)
        self.convs = dict(DETECTRON2_CONVS, **(convs or {}))
        unknown = {k: v for k, v in self.convs.items() if v not in CONV_RULES}
        if unknown:
            raise ValueError(
                f'Detectron2Init: unknown conv rules {unknown}; use one of {CONV_RULES}.'
            )
        self.zero_init_last_norm = zero_init_last_norm

    def __call__(self, module: nn.Module) -> None:
        """Load checkpoints part by part, then initialize every part none loads."""
        for child in module.children():
            if hasattr(child, 'init_weights'):
                # Loads checkpoints, and marks each part initialized so that mmengine
                # does not run the parts' own init again after this one.
                child.init_weights()
        for name, child in module.named_children():
            if not is_checkpoint_init(getattr(child, 'init_cfg', None)):
                self._init_part(child, self.convs.get(name, 'msra'))

    def _init_part(self, part: nn.Module, conv_rule: str) -> None:
        # Layers inside a module with its own checkpoint (the VGG head's ImageNet fc6
        # and fc7) keep what it loaded.
        loaded = tuple(
            f'{name}.'
            for name, layer in part.named_modules()
            if is_checkpoint_init(getattr(layer, 'init_cfg', None))
        )
        for name, layer in part.named_modules():
            leaf = name.rsplit('.', 1)[-1]
            if f'{name}.'.startswith(loaded):
                continue
            if leaf in PREDICTOR_STD:
                normal_init(layer, std=PREDICTOR_STD[leaf], bias=0)
            elif isinstance(layer, nn.modules.conv._ConvNd):
                self._init_conv(layer, conv_rule)
            elif isinstance(layer, nn.Linear):
                caffe2_xavier_init(layer, bias=0)
            elif isinstance(layer, NORMS) and layer.affine:
                nn.init.ones_(layer.weight)
                nn.init.zeros_(layer.bias)
        if self.zero_init_last_norm:
            for block in part.modules():
                if isinstance(block, Bottleneck):
                    nn.init.zeros_(block.norm3.weight)
                elif isinstance(block, BasicBlock):
                    nn.init.zeros_(block.norm2.weight)

    @staticmethod
    def _init_conv(layer: nn.Module, rule: str) -> None:
        if rule == 'msra':
            kaiming_init(layer, mode='fan_out', nonlinearity='relu', bias=0, distribution='normal')
        elif rule == 'c2_xavier':
            caffe2_xavier_init(layer, bias=0)
        else:
            normal_init(layer, std=0.01, bias=0)

    def _get_init_info(self) -> str:
        return (
            f'{self.__class__.__name__}: convs {self.convs}, linear c2_xavier, '
            f'predictors {PREDICTOR_STD}, zero_init_last_norm={self.zero_init_last_norm}'
        )
