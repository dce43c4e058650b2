"""Keypoints through MMDetection's data pipeline.

mmdet 3.3's ``LoadAnnotations`` never loads keypoints (mmcv's ``_load_kps`` is not
called by its ``transform``) and its geometric transforms move boxes and masks only.
Rather than one keypoint-aware copy of every geometric transform, keypoints ride along
untouched and are moved once, when the sample is packed: every geometric transform of
mmdet 3.x (``Resize``, ``RandomResize``, ``RandomFlip``, ``RandomCrop``,
``RandomAffine``, ...) composes its mapping into ``results['homography_matrix']``, so
that matrix takes the loaded keypoints to the packed image. What that mapping cannot
say is done here as Detectron2 does it (``data/detection_utils.py``
``transform_keypoint_annotations``): a mirrored image swaps left and right keypoints
by the dataset's flip map, and a keypoint that lands outside the image is unlabeled.
"""

from typing import Optional, Sequence

import numpy as np
from mmdet.datasets.transforms import LoadAnnotations, PackDetInputs

from mmrethink.registry import TRANSFORMS

# COCO keypoints are integer pixel indices; +0.5 puts them at the pixel's centre in
# the continuous coordinates boxes use (Detectron2's loader does the same, and its
# evaluator takes the 0.5 off again; so does CocoKeypointMetric).
COCO_PIXEL_OFFSET = 0.5
# The instance key mmdet's RandomCrop filters with its boxes: it tells which loaded
# instance each surviving box is.
INSTANCE_INDEX = 'gt_instances_ids'


@TRANSFORMS.register_module()
class LoadKeypointAnnotations(LoadAnnotations):
    """mmdet's ``LoadAnnotations`` plus each instance's keypoints.

    Adds ``gt_keypoints`` (N x K x 3 float32: x, y, visibility; unlabeled keypoints
    are 0, 0, 0), the instances' indices (so that a transform dropping instances keeps
    them in step) and ``flip_indices`` from the dataset's meta. ``flip_indices`` may be
    given here for a dataset whose samples do not carry it.
    """

    def __init__(self, flip_indices: Optional[Sequence[int]] = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.flip_indices = None if flip_indices is None else list(flip_indices)

    def transform(self, results: dict) -> dict:
        """Load boxes, labels and masks as mmdet does, then the keypoints."""
        results = super().transform(results)
        flip = self.flip_indices if self.flip_indices is not None else results.get('flip_indices')
        if flip is None:
            raise KeyError(
                'LoadKeypointAnnotations: no flip map: use CocoKeypointDataset (its meta '
                'has flip_indices) or pass flip_indices=[...] to the transform.'
            )
        instances = results.get('instances', [])
        keypoints = np.zeros((len(instances), len(flip), 3), np.float32)
        for index, instance in enumerate(instances):
            if len(instance['keypoints']) != 3 * len(flip):
                raise ValueError(
                    f'LoadKeypointAnnotations: an instance of {results.get("img_path")} has '
                    f'{len(instance["keypoints"]) // 3} keypoints but the flip map has '
                    f'{len(flip)} entries: give the flip map one entry per keypoint.'
                )
            keypoints[index] = np.reshape(instance['keypoints'], (-1, 3))
        labeled = keypoints[..., 2] > 0
        keypoints[..., :2] = np.where(labeled[..., None], keypoints[..., :2] + COCO_PIXEL_OFFSET, 0)
        results['gt_keypoints'] = keypoints
        results[INSTANCE_INDEX] = np.arange(len(instances))
        results['flip_indices'] = list(flip)
        return results


@TRANSFORMS.register_module()
class PackKeypointDetInputs(PackDetInputs):
    """mmdet's ``PackDetInputs``, with ``gt_keypoints`` moved to the packed image and
    packed as ``gt_instances.keypoints`` (N x K x 3).

    The keypoints are mapped by ``results['homography_matrix']``; when that mapping
    mirrors the image (negative determinant: one flip, or a flip and a rotation),
    left and right keypoints trade places by ``flip_indices``; keypoints outside
    ``img_shape`` become unlabeled (0, 0, 0); instances a transform dropped are dropped.
    """

    mapping_table = dict(PackDetInputs.mapping_table, gt_keypoints='keypoints')

    def transform(self, results: dict) -> dict:
        """Move the keypoints, then pack as mmdet does."""
        if 'gt_keypoints' in results:
            results['gt_keypoints'] = self.moved_keypoints(results)
        return super().transform(results)

    @staticmethod
    def moved_keypoints(results: dict) -> np.ndarray:
        """``results['gt_keypoints']`` in the coordinates of ``results['img']``."""
        keypoints = results['gt_keypoints'][results[INSTANCE_INDEX]].copy()
        num_boxes = len(results['gt_bboxes']) if 'gt_bboxes' in results else len(keypoints)
        if num_boxes != len(keypoints):
            raise ValueError(
                f'{num_boxes} boxes but {len(keypoints)} keypoint sets after the pipeline: a '
                f'transform dropped instances without updating {INSTANCE_INDEX!r}; put it '
                'before LoadKeypointAnnotations or drop instances with RandomCrop only.'
            )
        matrix = results.get('homography_matrix')
        if matrix is not None:
            xy1 = np.concatenate([keypoints[..., :2], np.ones_like(keypoints[..., :1])], -1)
            moved = xy1 @ np.asarray(matrix, np.float32).T
            keypoints[..., :2] = moved[..., :2] / moved[..., 2:]
            if np.linalg.det(np.asarray(matrix)[:2, :2]) < 0:
                keypoints = keypoints[:, results['flip_indices']]
        height, width = results['img_shape'][:2]
        x, y = keypoints[..., 0], keypoints[..., 1]
        outside = (x < 0) | (y < 0) | (x >= width) | (y >= height)
        keypoints[(keypoints[..., 2] <= 0) | outside] = 0
        return keypoints
