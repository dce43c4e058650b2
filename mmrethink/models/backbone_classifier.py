"""An image classifier around any mmdet backbone: the demo's ImageNet pre-training."""

from typing import Dict, List, Optional, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModel

from mmrethink.registry import MODELS


@MODELS.register_module()
class BackboneClassifier(BaseModel):
    """Backbone -> global average pool of the last stage -> linear classifier.

    Its state dict stores the backbone under ``backbone.``, the prefix a detector's
    ``init_cfg=dict(type='Pretrained', prefix='backbone.', checkpoint=...)`` reads,
    so the demo's pretrained arm loads it through the same path as the COCO configs.
    """

    def __init__(
        self,
        backbone: Dict,
        num_classes: int,
        in_channels: int,
        data_preprocessor: Optional[Dict] = None,
        init_cfg=None,
    ) -> None:
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        self.fc = nn.Linear(in_channels, num_classes)

    def forward(
        self, inputs: torch.Tensor, data_samples: Optional[List] = None, mode: str = 'tensor'
    ) -> Union[Dict, List, torch.Tensor]:
        """Logits (``'tensor'``), the loss (``'loss'``) or predictions with labels."""
        logits = self.fc(self.backbone(inputs)[-1].mean((2, 3)))
        if mode == 'tensor':
            return logits
        labels = torch.stack(data_samples).to(logits.device)
        if mode == 'loss':
            return dict(loss_cls=F.cross_entropy(logits, labels))
        return [dict(pred=p, gt=g) for p, g in zip(logits.argmax(1), labels)]
