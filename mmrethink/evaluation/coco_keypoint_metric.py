"""COCO keypoint AP beside box AP, for Keypoint R-CNN.

mmdet 3.3's ``CocoMetric`` evaluates boxes, masks and proposals only, and mmpose's
``CocoMetric`` reads mmpose's data samples through xtcocotools; this metric adds
pycocotools' own keypoint evaluation (``COCOeval(gt, dt, 'keypoints')``, OKS) to
mmdet's. The OKS sigmas come from the dataset's meta (``sigmas``), so a dataset with
other keypoints than COCO's 17 is scored with its own.
"""

from collections import OrderedDict
from typing import Dict, List, Sequence, Union

import numpy as np
from mmdet.evaluation import CocoMetric
from mmengine.logging import MMLogger
from pycocotools.cocoeval import COCOeval

from mmrethink.registry import METRICS

# Detectron2's evaluator (evaluation/coco_evaluation.py) takes off the 0.5 its loader
# added to COCO's integer keypoint coordinates; so do we (LoadKeypointAnnotations).
COCO_PIXEL_OFFSET = 0.5
# COCOeval's keypoint stats, in order (pycocotools cocoeval.py summarize, 'keypoints').
KEYPOINT_STATS = (
    'mAP',
    'mAP_50',
    'mAP_75',
    'mAP_m',
    'mAP_l',
    'AR',
    'AR_50',
    'AR_75',
    'AR_m',
    'AR_l',
)


@METRICS.register_module()
class CocoKeypointMetric(CocoMetric):
    """mmdet's ``CocoMetric`` with ``'keypoints'`` among its metrics.

    Each detection's ``keypoints`` (n x K x 3 from ``KeypointRoIHead``) become a COCO
    keypoint result with the detection's box score; pycocotools scores them with OKS,
    sigmas from ``dataset_meta['sigmas']``. Keypoint metrics come first in the results
    (``keypoints_mAP``, ``keypoints_mAP_50``, ...), so a checkpoint hook's
    ``save_best='auto'`` keeps the best keypoint AP; box metrics follow as mmdet writes
    them. Needs ``ann_file`` (the keypoint ground truth is read from it).

    Args:
        metric: Any of mmdet's metrics and ``'keypoints'``.
        **kwargs: ``CocoMetric``'s.
    """

    def __init__(self, metric: Union[str, Sequence[str]] = ('keypoints', 'bbox'), **kwargs) -> None:
        metrics = [metric] if isinstance(metric, str) else list(metric)
        self.with_keypoints = 'keypoints' in metrics
        super().__init__(metric=[m for m in metrics if m != 'keypoints'], **kwargs)
        if self.with_keypoints and self._coco_api is None:
            raise ValueError(
                'CocoKeypointMetric: keypoint AP reads the ground truth from ann_file; '
                'set ann_file to the COCO keypoint file of the evaluated split.'
            )

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """mmdet's results of the batch, each with its detections' keypoints."""
        super().process(data_batch, data_samples)
        if self.with_keypoints:
            for (_, result), sample in zip(self.results[-len(data_samples) :], data_samples):
                result['keypoints'] = sample['pred_instances']['keypoints'].cpu().numpy()

    def keypoint_results(self, preds: Sequence[dict]) -> List[dict]:
        """COCO keypoint results: x, y, score per keypoint, the box score per person."""
        results = []
        for pred in preds:
            for keypoints, score, label in zip(pred['keypoints'], pred['scores'], pred['labels']):
                keypoints = keypoints.astype(np.float64)
                keypoints[:, :2] -= COCO_PIXEL_OFFSET
                results.append(
                    dict(
                        image_id=pred['img_id'],
                        category_id=self.cat_ids[label],
                        keypoints=keypoints.reshape(-1).tolist(),
                        score=float(score),
                    )
                )
        return results

    def compute_metrics(self, results: list) -> Dict[str, float]:
        """Keypoint AP and AR (pycocotools), then mmdet's metrics."""
        others = super().compute_metrics(results)
        if not self.with_keypoints:
            return others
        logger = MMLogger.get_current_instance()
        logger.info('Evaluating keypoints...')
        metrics = OrderedDict()
        detections = self.keypoint_results([pred for _, pred in results])
        if not detections:
            logger.warning('No keypoint detections: keypoint AP is not computed.')
            metrics.update(others)
            return metrics
        evaluation = COCOeval(self._coco_api, self._coco_api.loadRes(detections), 'keypoints')
        evaluation.params.kpt_oks_sigmas = np.asarray(self.dataset_meta['sigmas'], np.float64)
        evaluation.params.catIds = self.cat_ids
        evaluation.params.imgIds = self.img_ids
        evaluation.evaluate()
        evaluation.accumulate()
        evaluation.summarize()
        for name, value in zip(KEYPOINT_STATS, evaluation.stats):
            metrics[f'keypoints_{name}'] = float(value)
        metrics.update(others)
        return metrics
