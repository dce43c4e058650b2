# The VGG-16 pretrained arm's model: faster-rcnn_vgg16.py fine-tuned from torchvision's
# ImageNet VGG-16, the file mmengine's torchvision://vgg16 names
# (mmengine/hub/torchvision_0.12.json), by URL so that no torchvision is needed: its
# conv body and its fc6/fc7 (classifier.0 and .3), as Faster R-CNN fine-tunes both.
# conv1 and conv2 are frozen as Detectron's VGG16.py freezes them (StopGradient after
# pool2; frozen_stages=1 as mmdet's ResNet counts it). The paper's own ImageNet VGG-16,
# trained from MSRA init, is not public (configs/rethinking/README.md, "VGG-16").
_base_ = './faster-rcnn_vgg16.py'

imagenet_vgg16 = 'https://download.pytorch.org/models/vgg16-397923af.pth'
model = dict(
    backbone=dict(
        frozen_stages=1,
        init_cfg=dict(
            _delete_=True,  # the scratch base has init_cfg=None
            type='Pretrained',
            checkpoint=imagenet_vgg16,
        ),
    ),
    roi_head=dict(bbox_head=dict(fcs_init_cfg=dict(type='Pretrained', checkpoint=imagenet_vgg16))),
)
