"""Fixes that let mmengine 0.10.7 / mmdet 3.3.0 run on every supported torch (2.1 on) and
today's packaging."""

from .checkpoint_loading import allow_mmengine_checkpoint_types
from .config_scope import register_config_scope

__all__ = ['allow_mmengine_checkpoint_types', 'register_config_scope']
