"""Every leaf config's resolved values, pinned (tests/data/resolved_configs.json).

A refactor of the config tree must leave what each arm trains unchanged. This test
resolves every leaf (all of its bases, mmdet's included) and compares each value with
the pinned one. After an intended change, rewrite the pins and review their diff:

    python tests/test_config_pins.py --update
"""

import ast
import glob
import json
import os.path as osp
import sys
from functools import lru_cache
from typing import Any, Dict

import pytest

import mmrethink  # noqa: F401  registers the mmrethink:: scope
from helpers import load_config

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
PINS = osp.join(REPO, 'tests', 'data', 'resolved_configs.json')
LEAVES = {
    osp.relpath(p, REPO): p
    for p in sorted(glob.glob(osp.join(REPO, 'configs', '*', '*.py')))
    if '_base_' not in p
}


def flatten(node: Any, prefix: str = '') -> Dict[str, Any]:
    """``{'model.backbone.depth': 50, 'train_pipeline.0.type': ..., ...}``."""
    if isinstance(node, dict):
        items = node.items()
    elif isinstance(node, (list, tuple)) and any(isinstance(v, (dict, list, tuple)) for v in node):
        items = ((str(i), v) for i, v in enumerate(node))
    else:
        return {prefix: json.loads(json.dumps(node, default=repr))}
    flat = {}
    for key, value in items:
        flat.update(flatten(value, f'{prefix}.{key}' if prefix else str(key)))
    return flat


def resolved_values(path: str) -> Dict[str, Any]:
    return flatten(load_config(path).to_dict())


ABSENT = '<absent>'


def pins_of_tree() -> Dict[str, Any]:
    """Per key, each value and the leaves that have it; the commonest value is ``'*'``."""
    resolved = {name: resolved_values(path) for name, path in LEAVES.items()}
    names = sorted(resolved)
    values = {}
    for key in sorted(set().union(*resolved.values())):
        groups: Dict[str, list] = {}
        for index, name in enumerate(names):
            value = json.dumps(resolved[name].get(key, ABSENT), sort_keys=True)
            groups.setdefault(value, []).append(index)
        ordered = sorted(groups.items(), key=lambda group: -len(group[1]))
        values[key] = [[json.loads(ordered[0][0]), '*']] + [
            [json.loads(value), leaves] for value, leaves in ordered[1:]
        ]
    return dict(leaves=names, values=values)


def pinned_values(pins: Dict[str, Any], name: str) -> Dict[str, Any]:
    """One leaf's resolved values as pinned (keys it lacks are left out)."""
    index = pins['leaves'].index(name)
    flat = {}
    for key, groups in pins['values'].items():
        value = groups[0][0]
        for other, leaves in groups[1:]:
            if index in leaves:
                value = other
        if value != ABSENT:
            flat[key] = value
    return flat


@lru_cache(maxsize=None)
def load_pins() -> Dict[str, Any]:
    with open(PINS) as f:
        return json.load(f)


@pytest.mark.slow  # parses every leaf config (~0.75 s each)
@pytest.mark.parametrize('name', sorted(LEAVES))
def test_resolved_values_are_pinned(name):
    pins = load_pins()
    assert name in pins['leaves'], f'{name} is not pinned: run python {__file__} --update'
    expected, actual = pinned_values(pins, name), resolved_values(LEAVES[name])
    changed = {
        k: (expected.get(k, ABSENT), actual.get(k, ABSENT))
        for k in expected.keys() | actual.keys()
        if expected.get(k, ABSENT) != actual.get(k, ABSENT)
    }
    assert not changed, f'{name}: resolved values differ from the pins (pinned, now): {changed}'


def test_every_pinned_leaf_exists():
    assert set(load_pins()['leaves']) == set(LEAVES)


def pack_depth(path: str) -> int:
    """Pack files on the longest chain from ``path`` to mmdet's (``path`` included)."""
    tree = ast.parse(open(path).read())
    bases = next(
        (
            ast.literal_eval(node.value)
            for node in tree.body
            if isinstance(node, ast.Assign) and node.targets[0].id == '_base_'
        ),
        [],
    )
    bases = [bases] if isinstance(bases, str) else bases
    own = [osp.normpath(osp.join(osp.dirname(path), b)) for b in bases if '::' not in b]
    return 1 + max((pack_depth(b) for b in own), default=0)


@pytest.mark.parametrize('name', sorted(LEAVES))
def test_every_leaf_is_at_most_three_pack_files_deep(name):
    assert pack_depth(LEAVES[name]) <= 3


def write_pins(path: str = PINS) -> None:
    """One line per key, so a review of the pins' diff reads key by key."""
    pins = pins_of_tree()
    lines = [
        f'  {json.dumps(k)}: {json.dumps(v, sort_keys=True)}' for k, v in pins['values'].items()
    ]
    with open(path, 'w') as f:
        f.write(
            '{\n "leaves": '
            + json.dumps(pins['leaves'], indent=2)
            + ',\n "values": {\n'
            + ',\n'.join(lines)
            + '\n }\n}\n'
        )


if __name__ == '__main__':
    if sys.argv[1:] != ['--update']:
        raise SystemExit(f'usage: python {sys.argv[0]} --update')
    write_pins()
    print(f'wrote {PINS}')
