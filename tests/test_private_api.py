"""mmrethink/compat/private_api.py is true: every listed upstream name still exists, and
every private or unexported upstream name the package uses is listed."""

import ast
import glob
import importlib
import inspect
import os.path as osp
from typing import Any, Iterator, List, Set, Tuple

import pytest

from helpers import REPO
from mmrethink.compat.private_api import PRIVATE_API, PrivateUse

PACKAGE = osp.join(REPO, 'mmrethink')
UPSTREAM = ('mmengine', 'mmdet', 'mmcv', 'torch', 'numpy')
# Upstream packages whose deep module paths are not all public: an import from below
# their first subpackage (``mmengine.optim.scheduler.x``) must come from the first
# subpackage's exports (``mmengine.optim``) or be listed.
SHALLOW_API = ('mmengine', 'mmdet', 'mmcv')
# namedtuple's public methods, underscored to stay out of the fields' way.
NAMEDTUPLE_API = {'_replace', '_asdict', '_fields', '_make', '_field_defaults'}

Use = Tuple[str, str, int]  # pack module, upstream name (or its tail), line


def resolve(path: str) -> Any:
    """The object at a dotted path: the longest importable module, then attributes."""
    parts = path.split('.')
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module('.'.join(parts[:cut]))
        except ImportError:
            continue
        for name in parts[cut:]:
            obj = getattr(obj, name)
        return obj
    raise ImportError(f'no module in {path}')


@pytest.mark.stack
@pytest.mark.parametrize('entry', PRIVATE_API, ids=lambda e: e.upstream)
def test_every_listed_upstream_name_resolves(entry: PrivateUse):
    if entry.instance_attribute:
        owner_path, _, name = entry.upstream.rpartition('.')
        owner = resolve(owner_path)
        assert f'self.{name} =' in inspect.getsource(owner), (
            f'compat/private_api.py entry {entry.upstream}: {owner_path} no longer sets '
            f'{name}; fix {", ".join(entry.used_in)}'
        )
        return
    try:
        resolve(entry.upstream)
    except (ImportError, AttributeError) as e:
        pytest.fail(
            f'compat/private_api.py entry {entry.upstream} is gone upstream ({e}); fix '
            f'{", ".join(entry.used_in)}'
        )


def _module(path: str) -> str:
    rel = osp.relpath(path, REPO)[: -len('.py')].split(osp.sep)
    return '.'.join(rel[:-1] if rel[-1] == '__init__' else rel)


def _sources() -> Iterator[Tuple[str, ast.AST]]:
    for path in sorted(glob.glob(osp.join(PACKAGE, '**', '*.py'), recursive=True)):
        yield _module(path), ast.parse(open(path).read(), path)


def _private(name: str) -> bool:
    return name.startswith('_') and not name.endswith('__') and name not in NAMEDTUPLE_API


def _own_names(trees: List[Tuple[str, ast.AST]]) -> Set[str]:
    """Underscored names the package defines itself: functions, classes, variables,
    arguments and attributes it sets on ``self``."""
    own = set()
    for _, tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                own.add(node.name)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                own.add(node.id)
            elif isinstance(node, ast.arg):
                own.add(node.arg)
            elif (
                isinstance(node, ast.Attribute)
                and isinstance(node.ctx, ast.Store)
                and isinstance(node.value, ast.Name)
                and node.value.id == 'self'
            ):
                own.add(node.attr)
    return own


def _exported(package: str, name: str) -> bool:
    module = importlib.import_module(package)
    return name in getattr(module, '__all__', ()) or hasattr(module, name)


def static_uses() -> List[Use]:
    """Private or unexported upstream names in the package's source."""
    trees = list(_sources())
    own = _own_names(trees)
    uses = []
    for module, tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and not node.level:
                top = node.module.split('.')[0]
                if top not in UPSTREAM:
                    continue
                for alias in node.names:
                    dotted = f'{node.module}.{alias.name}'
                    parts = node.module.split('.')
                    if _private(alias.name) or any(_private(p) for p in parts):
                        uses.append((module, dotted, node.lineno))
                    elif top in SHALLOW_API and len(parts) > 2:
                        shallow = '.'.join(parts[:2])
                        if _exported(shallow, alias.name):
                            pytest.fail(
                                f'{module}:{node.lineno}: import {alias.name} from {shallow}, '
                                f'its public home, not {node.module}'
                            )
                        uses.append((module, dotted, node.lineno))
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    parts = alias.name.split('.')
                    if parts[0] in SHALLOW_API and len(parts) > 2:
                        uses.append((module, alias.name, node.lineno))
            elif isinstance(node, ast.Attribute) and _private(node.attr):
                if node.attr not in own:
                    uses.append((module, node.attr, node.lineno))
    return uses


def override_uses() -> List[Use]:
    """Underscored members of upstream classes that the package's classes override."""
    uses = []
    for module, _ in _sources():
        loaded = importlib.import_module(module)
        for cls in vars(loaded).values():
            if not inspect.isclass(cls) or cls.__module__ != module:
                continue
            upstream = [b for b in cls.__mro__[1:] if b.__module__.split('.')[0] in UPSTREAM]
            for name, member in vars(cls).items():
                function = getattr(member, '__func__', member)  # static/class methods
                if not inspect.isfunction(function) or not _private(name):
                    continue  # ABCMeta's own _abc_impl and the like are no override
                if any(name in vars(b) for b in upstream):
                    uses.append((module, name, inspect.getsourcelines(function)[1]))
    return uses


def _listed(use: Use, entry: PrivateUse) -> bool:
    module, name, _ = use
    upstream = entry.upstream
    return module in entry.used_in and (
        upstream == name or upstream.endswith('.' + name) or upstream.startswith(name + '.')
    )


def test_every_private_upstream_name_in_the_package_is_listed():
    unlisted = [
        f'mmrethink/{m.split(".", 1)[1].replace(".", "/")}.py:{line}: {name}'
        for m, name, line in static_uses() + override_uses()
        if not any(_listed((m, name, line), e) for e in PRIVATE_API)
    ]
    assert not unlisted, (
        'private or unexported upstream names missing from mmrethink/compat/private_api.py '
        '(use a public name, or add an entry saying why):\n' + '\n'.join(unlisted)
    )


def test_every_listed_use_is_still_there():
    uses = static_uses() + override_uses()
    stale = [
        f'{e.upstream} in {module}'
        for e in PRIVATE_API
        for module in e.used_in
        if not any(_listed(u, e) for u in uses if u[0] == module)
    ]
    assert not stale, f'compat/private_api.py lists uses the code no longer has: {stale}'
