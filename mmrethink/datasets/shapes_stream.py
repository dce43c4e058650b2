"""The demo's detection training set, rendered when a sample is read: no files at all."""

from typing import Dict, List, Optional, Tuple

from mmdet.datasets import BaseDetDataset

from mmrethink.registry import DATASETS

from .synthetic_shapes import (
    DETECTION_SHAPES,
    SHAPE_RADIUS,
    detection_image_side,
    render_detection_image,
)


@DATASETS.register_module()
class SyntheticShapesStream(BaseDetDataset):
    """``num_images`` synthetic shape images of set ``seed``, each drawn from ``(seed, index)``.

    "Plentiful" data for the CPU demo without disk or generation time: an image is
    rendered (a few milliseconds) when the loader asks for it, the same every time and in
    every process. Image ``i`` is the one :func:`make_detection_set` writes as id ``i + 1``,
    so the first ``N`` images of a stream are a scarce subset of it, and a stream can be
    checked against files. Samples go through ``pipeline`` with the image already loaded:
    it starts at ``LoadAnnotations``, not ``LoadImageFromFile``.

    Args:
        num_images: How many distinct images (index 0..num_images-1).
        seed: Which set; the demo's validation files use another seed.
        image_size: Range of the square images' side, as in ``make_detection_set``.
        max_objects: Most shapes per image.
        radius: Range of a shape's radius, as fractions of the image side.
        **kwargs: ``BaseDetDataset``'s (``pipeline``, ``metainfo``, ``test_mode``, ...).
    """

    METAINFO = dict(classes=DETECTION_SHAPES)

    def __init__(
        self,
        num_images: int,
        seed: int = 0,
        image_size: Tuple[int, int] = (128, 224),
        max_objects: int = 5,
        radius: Tuple[float, float] = SHAPE_RADIUS,
        **kwargs,
    ) -> None:
        if num_images < 1:
            raise ValueError(f'SyntheticShapesStream needs num_images >= 1, got {num_images}.')
        self.num_images = num_images
        self.seed = seed
        self.image_size = tuple(image_size)
        self.max_objects = max_objects
        self.radius = tuple(radius)
        super().__init__(ann_file='', **kwargs)

    def load_data_list(self) -> List[Dict]:
        """One record per index: ids and sizes only; pixels are rendered on reading."""
        records = []
        for index in range(self.num_images):
            side = detection_image_side(self.seed, index, self.image_size)
            records.append(
                dict(img_id=index + 1, index=index, img_path=None, height=side, width=side)
            )
        return records

    def render(self, idx: int) -> Dict:
        """Sample ``idx`` before the pipeline: image, shapes and instances (mmdet's format)."""
        info = self.get_data_info(idx)
        img, objects = render_detection_image(
            self.seed, info['index'], self.image_size, self.max_objects, self.radius
        )
        instances = []
        for obj in objects:
            x, y, w, h = obj['bbox']
            instances.append(
                dict(
                    bbox=[x, y, x + w, y + h],
                    bbox_label=obj['category_id'] - 1,
                    mask=obj['segmentation'],
                    ignore_flag=0,
                )
            )
        info.update(img=img, img_shape=img.shape[:2], ori_shape=img.shape[:2], instances=instances)
        return info

    def prepare_data(self, idx: int) -> Optional[Dict]:
        """Render sample ``idx`` and run the pipeline on it."""
        return self.pipeline(self.render(idx))
