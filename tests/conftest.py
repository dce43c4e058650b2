"""Fixtures: small generated data, made once per test session."""

import pytest

from mmrethink.datasets import make_detection_set
from mmrethink.diagnostics.trial import make_trial_data


@pytest.fixture(scope='session')
def shapes(tmp_path_factory) -> str:
    """A tiny synthetic COCO set: 16 training and 8 validation images."""
    root = str(tmp_path_factory.mktemp('shapes'))
    make_detection_set(root, 16, seed=0, split='train')
    make_detection_set(root, 8, seed=1, split='val')
    return root


@pytest.fixture(scope='session')
def trial_data(tmp_path_factory) -> str:
    """Generated COCO- and VOC-layout sets for any leaf (mmrethink/diagnostics/trial.py)."""
    return make_trial_data(str(tmp_path_factory.mktemp('trial')))
