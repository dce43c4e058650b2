"""Paired experiments, scratch against pretrained: "do I need ImageNet pre-training?".

On any COCO-format dataset (``tools/pair_experiment.py`` is its command line) and in the
CPU mini-reproduction (``demo.py``, ``tools/demo.py``): one config writer, one report.
"""

from .configs import PairedConfigs, write_pair
from .dataset import DatasetSummary, PairingError, inspect_dataset, regime
from .report import write_report

__all__ = [
    'DatasetSummary',
    'PairedConfigs',
    'PairingError',
    'inspect_dataset',
    'regime',
    'write_pair',
    'write_report',
]
