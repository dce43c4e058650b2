"""Packaging beyond pyproject.toml: the ``.pth`` file that lets mmengine resolve
``mmrethink::`` in any interpreter (``_mmrethink_scope.py`` says why)."""

import os.path as osp

from setuptools import setup
from setuptools.command.build_py import build_py

SCOPE_PTH = 'mmrethink-config-scope.pth'


class BuildWithScopeHook(build_py):
    """build_py, plus the ``.pth`` file at the top of the wheel (site-packages)."""

    def run(self) -> None:
        """Build the modules, then copy the ``.pth`` file beside them."""
        super().run()
        self.copy_file(SCOPE_PTH, osp.join(self.build_lib, SCOPE_PTH))


setup(cmdclass={'build_py': BuildWithScopeHook})
