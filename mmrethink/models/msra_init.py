"""Initialization of a whole detector for training from random weights."""
from typing import Dict, Sequence

import torch.nn as nn
from mmdet.models.backbones.resnet import BasicBlock, Bottleneck
from mmengine.model.weight_init import BaseInit, caffe2_xavier_init, kaiming_init

from mmrethink.registry import WEIGHT_INITIALIZERS

NORMS = (nn.GroupNorm, nn.modules.batchnorm._BatchNorm)
# The last layer of each head: their own init (small Gaussians, prior-probability
# biases) matters for the first iterations and is the same in both arms.
PREDICTORS = ('rpn_cls', 'rpn_reg', 'fc_cls', 'fc_reg', 'conv_logits')


@WEIGHT_INITIALIZERS.register_module()
class MSRAInit(BaseInit):
    """MSRA-initialize every layer of a detector that no checkpoint initializes.

    The detector's ``init_cfg`` in both arms (He et al., 2019): in a scratch arm it
    covers backbone, neck and heads; in a pretrained arm the backbone, whose
    ``init_cfg`` is ``Pretrained``, keeps its ImageNet weights and neck and heads get
    the very same init as in the scratch arm. It first lets every child run its own
    ``init_weights`` (so predictors keep their heads' init and checkpoints load),
    then re-initializes every other convolution with Kaiming/MSRA (``fan_out``, normal:
    Detectron's ``MSRAFill``), every other linear layer with Caffe2's Xavier, and every
    GroupNorm/BatchNorm to weight 1, bias 0. mmdet's ResNet zero-inits the last norm of
    each residual block by default; Detectron2 found that hurts GN from scratch, so it
    is off unless ``zero_init_last_norm=True``.

    Args:
        conv: Keyword arguments of ``kaiming_init`` for convolutions.
        zero_init_last_norm: Zero the weight of the last norm in each residual block.
        keep: Name suffixes of layers left with their module's own init.
    """

    def __init__(self,
                 conv: Dict = dict(mode='fan_out', nonlinearity='relu', distribution='normal'),
                 zero_init_last_norm: bool = False,
                 keep: Sequence[str] = PREDICTORS,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.conv = dict(conv)
        self.zero_init_last_norm = zero_init_last_norm
        self.keep = tuple(keep)

    def __call__(self, module: nn.Module) -> None:
        for child in module.children():
            if hasattr(child, 'init_weights'):
                child.init_weights()  # BaseModule marks itself initialized
        for child in module.children():
            if not _loads_checkpoint(child):
                self._init_layers(child)

    def _init_layers(self, module: nn.Module) -> None:
        for name, layer in module.named_modules():
            if name.endswith(self.keep):
                continue
            if isinstance(layer, nn.modules.conv._ConvNd):
                kaiming_init(layer, bias=self.bias, **self.conv)
            elif isinstance(layer, nn.Linear):
                caffe2_xavier_init(layer, bias=self.bias)
            elif isinstance(layer, NORMS) and layer.affine:
                nn.init.ones_(layer.weight)
                nn.init.zeros_(layer.bias)
        if self.zero_init_last_norm:
            for block in module.modules():
                if isinstance(block, Bottleneck):
                    nn.init.zeros_(block.norm3.weight)
                elif isinstance(block, BasicBlock):
                    nn.init.zeros_(block.norm2.weight)

    def _get_init_info(self) -> str:
        return (f'{self.__class__.__name__}: conv {self.conv}, zero_init_last_norm='
                f'{self.zero_init_last_norm}, kept {self.keep}')


def _loads_checkpoint(module: nn.Module) -> bool:
    init_cfg = getattr(module, 'init_cfg', None)
    return isinstance(init_cfg, dict) and init_cfg.get('type') == 'Pretrained'
