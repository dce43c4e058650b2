from .backbone_classifier import BackboneClassifier
from .detectron2_init import Detectron2Init
from .empty_safe_sync_bn import EmptySafeSyncBN
from .keypoint_head import KeypointRCNNHead
from .keypoint_roi_head import KeypointRCNN, KeypointRoIHead
from .mask_tta import DetMaskTTAModel
from .vgg import VGGBody, VGGFCBBoxHead

__all__ = [
    'BackboneClassifier',
    'DetMaskTTAModel',
    'Detectron2Init',
    'EmptySafeSyncBN',
    'KeypointRCNN',
    'KeypointRCNNHead',
    'KeypointRoIHead',
    'VGGBody',
    'VGGFCBBoxHead',
]
