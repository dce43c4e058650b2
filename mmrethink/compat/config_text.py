"""Format each config text with yapf once, not at every checkpoint.

mmengine's ``Config.pretty_text`` runs yapf over the whole config each time it is read,
and the Runner reads it when it dumps and logs the config and again in every checkpoint
it saves (``meta['cfg']``): ten times in a run of 8 iterations checkpointed every 2
(about 0.12 s each for a Mask R-CNN config on this project's 2-core machine, 2026-12-08).
yapf's ``FormatCode`` is a pure function of the text and the style, so its answer for
each text is kept and reused: the same formatted text, paid for once per process.
"""

import functools
from typing import Callable, Tuple

import mmengine.config.config as mmengine_config


def _once_per_text(format_code: Callable) -> Callable:
    @functools.lru_cache(maxsize=16)
    def format_style_items(text: str, style_items: Tuple) -> Tuple[str, bool]:
        return format_code(text, style_config=dict(style_items))

    def format_code_once(text: str, *args, **kwargs):
        style = kwargs.get('style_config')
        if args or set(kwargs) != {'style_config'} or not isinstance(style, dict):
            return format_code(text, *args, **kwargs)  # e.g. older yapf's verify=True
        return format_style_items(text, tuple(sorted(style.items())))

    format_code_once.wrapped_format = format_code  # type: ignore[attr-defined]
    return format_code_once


def format_config_text_once() -> None:
    """Let mmengine's config formatter reuse its answer for a text it formatted (idempotent)."""
    format_code = mmengine_config.FormatCode
    if not hasattr(format_code, 'wrapped_format'):
        mmengine_config.FormatCode = _once_per_text(format_code)
