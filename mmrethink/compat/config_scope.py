"""Make ``_base_ = 'mmrethink::<folder>/<file>.py'`` work from any config on disk.

mmengine resolves ``pkg::`` only for the names in ``MODULE2PACKAGE`` and looks the
package up with ``pkg_resources``. That lookup points into site-packages, where a
PEP 660 editable install or a plain source checkout has no ``mmrethink/`` folder. We
add our scope and answer the lookup for our own package with the folder of the module
actually imported, so configs always come from the code that is running.
"""

import os.path as osp
from typing import Callable

import mmengine.config.config as mmengine_config
from mmengine.config.utils import MODULE2PACKAGE

PACKAGE = 'mmrethink'
PACKAGE_DIR = osp.dirname(osp.dirname(osp.abspath(__file__)))


def _own_package_first(lookup: Callable[[str], str]) -> Callable[[str], str]:
    def get_installed_path(package: str) -> str:
        return PACKAGE_DIR if package == PACKAGE else lookup(package)

    get_installed_path.wrapped_lookup = lookup  # type: ignore[attr-defined]
    return get_installed_path


def register_config_scope() -> None:
    """Register ``mmrethink::`` with mmengine's config parser (idempotent)."""
    MODULE2PACKAGE[PACKAGE] = PACKAGE
    lookup = mmengine_config.get_installed_path
    if not hasattr(lookup, 'wrapped_lookup'):
        mmengine_config.get_installed_path = _own_package_first(lookup)
