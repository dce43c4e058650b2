"""Top-1 accuracy for the demo's pre-training classifier."""

from typing import Dict, List, Sequence

from mmengine.evaluator import BaseMetric

from mmrethink.registry import METRICS


@METRICS.register_module()
class ClassificationAccuracy(BaseMetric):
    """Share of ``dict(pred, gt)`` outputs of :class:`BackboneClassifier` that match."""

    default_prefix = 'cls'

    def process(self, data_batch, data_samples: Sequence[Dict]) -> None:
        """Record whether each prediction matches its label."""
        self.results.extend(int(s['pred'] == s['gt']) for s in data_samples)

    def compute_metrics(self, results: List[int]) -> Dict[str, float]:
        """Top-1 accuracy in percent."""
        return dict(top1=100.0 * sum(results) / max(len(results), 1))
