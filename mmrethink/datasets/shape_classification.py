"""The demo's stand-in for ImageNet: arrays written by ``make_classification_set``."""

import os.path as osp
from typing import Dict

import numpy as np
import torch
from torch.utils.data import Dataset

from mmrethink.registry import DATASETS


@DATASETS.register_module()
class ShapeClassificationDataset(Dataset):
    """Images and labels from ``data_root/images.npy`` and ``labels.npy``.

    Items are ``dict(inputs=uint8 CHW tensor, data_samples=label tensor)``, what
    mmengine's ``ImgDataPreprocessor`` and :class:`BackboneClassifier` expect. Random
    horizontal flips when ``flip=True``.
    """

    def __init__(self, data_root: str, flip: bool = False, num_classes: int = 0) -> None:
        for name in ('images.npy', 'labels.npy'):
            if not osp.isfile(osp.join(data_root, name)):
                raise FileNotFoundError(
                    f'{osp.join(data_root, name)} not found: write the set with '
                    'mmrethink.datasets.make_classification_set(data_root, ...) first.'
                )
        self.images = np.load(osp.join(data_root, 'images.npy'))
        self.labels = np.load(osp.join(data_root, 'labels.npy'))
        self.flip = flip
        self.metainfo = dict(num_classes=num_classes or int(self.labels.max()) + 1)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> Dict[str, torch.Tensor]:
        img = self.images[index]
        if self.flip and np.random.random() < 0.5:
            img = img[:, ::-1]
        return dict(
            inputs=torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1))),
            data_samples=torch.tensor(int(self.labels[index])),
        )
