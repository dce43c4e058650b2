"""Lets mmengine resolve ``_base_ = 'mmrethink::...'`` in any Python, the pack unimported.

mmengine 0.10.7 resolves ``pkg::`` bases only for the packages in its
``MODULE2PACKAGE`` table, and parses a config's ``_base_`` before its
``custom_imports``: a user config inheriting the pack's, run by MMDetection's own
``tools/train.py`` or ``mim train mmdet``, stops with "mmengine does not support to load
mmrethink config" unless ``mmrethink`` was imported first. The installed package puts
``mmrethink-config-scope.pth`` in site-packages, whose one line imports this module at
interpreter start. It imports neither torch nor mmengine: it waits for mmengine's
config utilities to be imported and adds the scope to their table then.
"""

import importlib.abc
import importlib.machinery
import sys
from types import ModuleType
from typing import Optional, Sequence

TABLE_MODULE = 'mmengine.config.utils'
SCOPE = 'mmrethink'


def add_scope(module: ModuleType) -> None:
    """Name the pack in mmengine's table of packages that ``pkg::`` may name."""
    module.MODULE2PACKAGE.setdefault(SCOPE, SCOPE)


class ScopeRegistrar(importlib.abc.MetaPathFinder):
    """Finds nothing itself: when mmengine's config utilities are imported, lets the
    path finder load them and adds the scope right after."""

    def find_spec(
        self, fullname: str, path: Optional[Sequence[str]], target: Optional[ModuleType] = None
    ) -> Optional[importlib.machinery.ModuleSpec]:
        """The path finder's spec of the table's module, with the scope added on load."""
        if fullname != TABLE_MODULE:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None:
            return spec
        load = spec.loader.exec_module

        def exec_module(module: ModuleType) -> None:
            load(module)
            add_scope(module)

        spec.loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def install() -> None:
    """Add the scope now if mmengine's table is loaded, else when it is."""
    if TABLE_MODULE in sys.modules:
        add_scope(sys.modules[TABLE_MODULE])
    elif not any(isinstance(finder, ScopeRegistrar) for finder in sys.meta_path):
        sys.meta_path.insert(0, ScopeRegistrar())


install()
