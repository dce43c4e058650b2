"""The package's layers point one way: every import of ``mmrethink.*`` in ``mmrethink/``
goes to its own layer or a lower one, and no two subpackages import each other.

Layers, lowest first (a module may import its own layer and those below):

1. ``utils``: pure helpers (config walking, the arm vocabulary, record formats);
2. ``registry``, ``version``, ``compat``: the registries and the upstream fixes;
3. ``models``, ``datasets``, ``evaluation``, ``engine``: what configs name. Within this
   layer the code needs ``engine`` -> ``datasets`` (the replaying train loop drives the
   replayable sampler); the cycle check keeps it one-way;
4. ``analysis``: runs read back from work dirs;
5. ``launching``: the training path (launch set-up, checks before a run, the fast path);
6. ``diagnostics``: what checks and measures that path (trial runs, toy-width models, the
   benchmark); ``pairing``: paired experiments, ``tools/pair_experiment.py``'s and the
   demo's.

``mmrethink/__init__.py`` stands above all of them: it imports what registers.
Imports inside functions and ``TYPE_CHECKING`` blocks count as much as top-level ones.
"""

import ast
import os.path as osp
from collections import defaultdict
from typing import Dict, Iterator, List, Optional, Set, Tuple

from helpers import REPO

PACKAGE = 'mmrethink'
ROOT = osp.join(REPO, PACKAGE)
LAYERS = (
    ('utils',),
    ('registry', 'version', 'compat'),
    ('models', 'datasets', 'evaluation', 'engine'),
    ('analysis',),
    ('launching',),
    ('diagnostics', 'pairing'),
)
LEVEL = {name: level for level, names in enumerate(LAYERS) for name in names}
TOP = ''  # mmrethink/__init__.py, above every layer

Edge = Tuple[str, str, str]  # importing subpackage, imported subpackage, 'file:line'


def modules() -> Iterator[str]:
    """Every ``.py`` file of the package, relative to the repository."""
    import glob

    for path in sorted(glob.glob(osp.join(ROOT, '**', '*.py'), recursive=True)):
        yield osp.relpath(path, REPO)


def module_name(path: str) -> str:
    """``mmrethink/engine/hooks/x.py`` -> ``mmrethink.engine.hooks.x`` (packages: no
    ``__init__``)."""
    parts = path[: -len('.py')].split(osp.sep)
    return '.'.join(parts[:-1] if parts[-1] == '__init__' else parts)


def subpackage(module: str) -> Optional[str]:
    """The layer key of a dotted module of the package (``TOP`` for the package itself);
    None for anything else."""
    parts = module.split('.')
    if parts[0] != PACKAGE:
        return None
    return parts[1] if len(parts) > 1 else TOP


def imported_modules(path: str) -> Iterator[Tuple[str, int]]:
    """``(dotted module, line)`` of every import in the file, relative ones resolved; a
    ``from <package> import name`` yields ``<package>.name`` (it may be a module)."""
    tree = ast.parse(open(osp.join(REPO, path)).read(), path)
    own = module_name(path)
    package = own if path.endswith('__init__.py') else own.rpartition('.')[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split('.')
                base = base[: len(base) - (node.level - 1)]
                source = '.'.join(base + ([node.module] if node.module else []))
            else:
                source = node.module
            for alias in node.names:
                yield f'{source}.{alias.name}', node.lineno


def edges() -> List[Edge]:
    """Imports from one subpackage of ``mmrethink`` into another."""
    found = []
    for path in modules():
        importer = subpackage(module_name(path))
        for module, line in imported_modules(path):
            imported = subpackage(module)
            if imported is None or imported == importer:
                continue
            if imported == TOP:  # ``import mmrethink`` itself registers everything
                imported = PACKAGE
            found.append((importer, imported, f'{path}:{line}'))
    return found


def upward(found: List[Edge]) -> List[str]:
    """Imports of a higher layer (or of the package itself) from below."""
    errors = []
    for importer, imported, where in found:
        if importer == TOP:
            continue
        if importer not in LEVEL:
            errors.append(f'{where}: {importer} is in no layer; add it to LAYERS')
        elif imported == PACKAGE:
            errors.append(
                f'{where}: {importer} imports the package itself, which stands above every '
                'layer (importing any mmrethink module already registers everything)'
            )
        elif imported not in LEVEL:
            errors.append(f'{where}: {importer} imports {imported}, which is in no layer')
        elif LEVEL[imported] > LEVEL[importer]:
            errors.append(
                f'{where}: {importer} (layer {LEVEL[importer] + 1}) imports {imported} '
                f'(layer {LEVEL[imported] + 1}), a higher layer'
            )
    return errors


def cycles(found: List[Edge]) -> List[str]:
    """Each cycle between subpackages, with one import per step of it."""
    graph: Dict[str, Dict[str, str]] = defaultdict(dict)
    for importer, imported, where in found:
        graph[importer].setdefault(imported, where)
    reported: Set[frozenset] = set()
    errors = []

    def visit(node: str, trail: List[str]) -> None:
        for nxt in sorted(graph.get(node, {})):
            if nxt in trail:
                loop = trail[trail.index(nxt) :] + [nxt]
                key = frozenset(loop)
                if key not in reported:
                    reported.add(key)
                    steps = [f'{a} -> {b} ({graph[a][b]})' for a, b in zip(loop, loop[1:])]
                    errors.append('cycle: ' + '; '.join(steps))
            else:
                visit(nxt, trail + [nxt])

    for start in sorted(graph):
        visit(start, [start])
    return errors


def test_the_walk_sees_relative_absolute_and_function_level_imports():
    found = edges()
    by_place = {where.rsplit(':', 1)[0]: (a, b) for a, b, where in found}
    # relative, from the package root: ``from . import datasets, engine, ...``
    assert (TOP, 'datasets') in {(a, b) for a, b, _ in found}
    # absolute, at module level
    assert by_place[osp.join(PACKAGE, 'analysis', 'runs.py')] == ('analysis', 'utils')
    # the layers cover every subpackage there is
    assert {a for a, _, _ in found} - {TOP} <= set(LEVEL)


def test_imports_inside_functions_and_type_checking_blocks_count(tmp_path):
    source = tmp_path / 'x.py'
    source.write_text(
        'from typing import TYPE_CHECKING\n\n\ndef f():\n    from mmrethink.analysis import runs\n'
        '\n\nif TYPE_CHECKING:\n    import mmrethink.pairing\n'
    )
    assert sorted(imported_modules(str(source))) == [
        ('mmrethink.analysis.runs', 5),
        ('mmrethink.pairing', 9),
        ('typing.TYPE_CHECKING', 1),
    ]


def test_no_module_imports_a_higher_layer():
    errors = upward(edges())
    assert not errors, 'imports against the layer order:\n' + '\n'.join(errors)


def test_no_cycle_between_subpackages():
    errors = cycles(edges())
    assert not errors, '\n'.join(errors)


def test_the_checks_fail_on_an_upward_import_and_a_cycle():
    """The checks themselves, on edges that break the order."""
    assert upward([('utils', 'launching', 'mmrethink/utils/x.py:3')]) == [
        'mmrethink/utils/x.py:3: utils (layer 1) imports launching (layer 5), a higher layer'
    ]
    loop = cycles([('engine', 'datasets', 'a.py:1'), ('datasets', 'engine', 'b.py:2')])
    assert loop == ['cycle: datasets -> engine (b.py:2); engine -> datasets (a.py:1)']
