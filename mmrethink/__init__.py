"""mmrethink: "Rethinking ImageNet Pre-training" (He, Girshick, Dollar, ICCV 2019), MMDetection 3.x.

Importing the package registers its modules in mmdet's registries (and in its own
child registries of scope ``mmrethink``), lets configs inherit ``mmrethink::...``, and
lets mmengine resume its own checkpoints under torch >= 2.6.
"""

from .compat import allow_mmengine_checkpoint_types, register_config_scope
from .version import __version__

register_config_scope()
allow_mmengine_checkpoint_types()

from . import datasets, engine, evaluation, models  # noqa: E402,F401  (registration)

__all__ = ['__version__']
