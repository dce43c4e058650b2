"""VGG-16 Faster R-CNN without normalization (He et al. 2019, Sec. 5 "VGG nets").

The conv body and the fc6/fc7 box head of the original Faster R-CNN, as Detectron
builds them (``detectron/modeling/VGG16.py``: ``add_VGG16_conv5_body``, conv1_1 to
conv5_3 with ReLU and no pool5, stride 16; ``add_VGG16_roi_fc_head``, fc6 and fc7 of
4096 with ReLU on 7x7 RoI features, no dropout). Both keep torchvision's names for the
tensors its ImageNet VGG-16 file has, so the pretrained arm loads that file by name.
"""

from typing import Dict, Optional, Tuple

import torch
import torch.nn as nn
from mmcv.cnn import VGG, make_vgg_layer
from mmdet.models import Shared2FCBBoxHead
from mmengine.model import BaseModule, ModuleList

from mmrethink.compat.torch_features import register_load_state_dict_pre_hook
from mmrethink.registry import MODELS

# torchvision's VGG ``classifier``: Linear (fc6), ReLU, Dropout, Linear (fc7), ReLU,
# Dropout, Linear (the ImageNet classes). Its fc6 and fc7, as the head names them.
TORCHVISION_FCS = {'classifier.0.': '0.', 'classifier.3.': '1.'}


@MODELS.register_module()
class VGGBody(BaseModule):
    """VGG's conv body for a single-level detector: one 512-channel map at stride 16.

    The five blocks of 3x3 convolutions with ReLU (mmcv's ``make_vgg_layer``, the
    depths of mmcv's ``VGG.arch_settings``), without normalization and without the
    last max-pool, so the RoI head pools conv5_3 as in Faster R-CNN. ``features`` is
    numbered as torchvision's VGG (conv1_1 is ``features.0``, conv5_3 of VGG-16
    ``features.28``): its ImageNet file loads by name.

    Args:
        depth: 11, 13, 16 or 19.
        base_channels: Width of conv1, doubled per block up to 8x (64 -> 512 in VGG);
            narrower only for tests on CPUs.
        frozen_stages: As mmdet's ResNet counts them, so that one setting freezes the
            same depth of either network: -1 nothing; 0 conv1 (where ResNet's stem
            is); 1 conv1 and conv2, the blocks below stride 4 (ResNet's stem and
            res2). Detectron's VGG16.py stops the gradient after pool2 (1 here).
        init_cfg: mmengine's, e.g. ``Pretrained`` with torchvision's VGG-16 file.
    """

    def __init__(
        self,
        depth: int = 16,
        base_channels: int = 64,
        frozen_stages: int = -1,
        init_cfg: Optional[Dict] = None,
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        if depth not in VGG.arch_settings:
            raise ValueError(f'VGGBody: depth {depth} is not one of {sorted(VGG.arch_settings)}.')
        layers, self.block_ends = [], []
        in_channels = 3
        for block, num_convs in enumerate(VGG.arch_settings[depth]):
            width = base_channels * 2 ** min(block, 3)
            layers += make_vgg_layer(in_channels, width, num_convs)
            self.block_ends.append(len(layers))
            in_channels = width
        layers.pop()  # pool5
        self.block_ends[-1] -= 1
        self.features = nn.Sequential(*layers)
        self.out_channels = in_channels
        if frozen_stages >= len(self.block_ends) - 1:
            raise ValueError(
                f'VGGBody: frozen_stages={frozen_stages} would freeze all '
                f'{len(self.block_ends)} blocks; use at most {len(self.block_ends) - 2}.'
            )
        self.frozen_stages = frozen_stages
        for name, param in self.named_parameters():
            if name.startswith(self.frozen_prefixes(frozen_stages)):
                param.requires_grad = False

    def frozen_prefixes(self, frozen_stages: int) -> Tuple[str, ...]:
        """Names (under the body) of the layers ``frozen_stages`` freezes; the arm
        guard asks this of any backbone that has it."""
        if frozen_stages < 0:
            return ()
        return tuple(f'features.{i}.' for i in range(self.block_ends[frozen_stages]))

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor]:
        """conv5_3 after its ReLU, the one level the RPN and RoI head read."""
        return (self.features(x),)


def torchvision_fcs(state_dict: Dict) -> Dict:
    """fc6 and fc7 of a torchvision VGG state dict, under the head's names (``0.``,
    ``1.``); empty for a file without them (a conv body alone)."""
    return {
        ours + key[len(theirs) :]: value
        for theirs, ours in TORCHVISION_FCS.items()
        for key, value in state_dict.items()
        if key.startswith(theirs)
    }


def _torchvision_fc_names(module: nn.Module, state_dict: Dict, prefix: str, *args) -> None:
    """Load torchvision's fc6/fc7 (``classifier.0``, ``classifier.3``) into the
    head's two fcs (``0``, ``1``); a detector's own checkpoint has neither name."""
    for theirs, ours in TORCHVISION_FCS.items():
        for key in [k for k in state_dict if k.startswith(prefix + theirs)]:
            state_dict[prefix + ours + key[len(prefix + theirs) :]] = state_dict.pop(key)


@MODELS.register_module()
class VGGFCBBoxHead(Shared2FCBBoxHead):
    """Faster R-CNN's VGG-16 box head: fc6 and fc7 (4096, ReLU) on 7x7 RoI features.

    mmdet's ``Shared2FCBBoxHead`` at VGG's width (as Detectron's
    ``add_VGG16_roi_fc_head``, no dropout), whose two fcs can start from an ImageNet
    VGG: with ``fcs_init_cfg=dict(type='Pretrained', checkpoint=...)`` they load
    torchvision's fc6 and fc7 (``classifier.0`` and ``classifier.3``), as Faster R-CNN
    fine-tunes them. ``fc_cls`` and ``fc_reg`` are new in both arms.

    Args:
        fc_out_channels: Width of fc6 and fc7.
        fcs_init_cfg: mmengine ``init_cfg`` of fc6 and fc7 (None: the detector's init).
    """

    def __init__(
        self, fc_out_channels: int = 4096, fcs_init_cfg: Optional[Dict] = None, **kwargs
    ) -> None:
        super().__init__(fc_out_channels=fc_out_channels, **kwargs)
        self.fcs_init_cfg = fcs_init_cfg
        self.shared_fcs = ModuleList(list(self.shared_fcs), init_cfg=fcs_init_cfg)
        register_load_state_dict_pre_hook(self.shared_fcs, _torchvision_fc_names)
