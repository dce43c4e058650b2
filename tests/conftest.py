"""Fixtures: small generated data, made once per test session; the slow tests first."""

from typing import List

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


def pytest_collection_modifyitems(items: List[pytest.Item]) -> None:
    """The tests marked slow first, each file's in its order: under `make test`'s two
    processes the quick ones then fill both at the end, rather than one process running
    a long test alone while the other has nothing left."""
    items.sort(key=lambda item: item.get_closest_marker('slow') is None)
