"""The paired experiment on any COCO-format dataset: "do I need ImageNet pre-training?".

``tools/pair_experiment.py`` is its command line.
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
