"""Fixes that let mmengine 0.10.7 / mmdet 3.3.0 run on every supported torch (2.1 on) and
today's packaging."""

from .checkpoint_loading import allow_mmengine_checkpoint_types
from .config_scope import register_config_scope
from .config_text import format_config_text_once

__all__ = ['allow_mmengine_checkpoint_types', 'format_config_text_once', 'register_config_scope']
