"""mmrethink: "Rethinking ImageNet Pre-training" (He, Girshick, Dollar, ICCV 2019), MMDetection 3.x.

Importing the package registers its modules in mmdet's registries (and in its own
child registries of scope ``mmrethink``), lets configs inherit ``mmrethink::...``,
lets mmengine resume its own checkpoints under torch >= 2.6 and has mmengine format each
config text once (compat/config_text.py).
"""

from .compat import (
    allow_mmengine_checkpoint_types,
    format_config_text_once,
    register_config_scope,
)
from .version import __version__

register_config_scope()
format_config_text_once()
allow_mmengine_checkpoint_types()

from . import datasets, engine, evaluation, models  # noqa: E402,F401  (registration)

__all__ = ['__version__']
