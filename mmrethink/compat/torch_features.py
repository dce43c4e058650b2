"""torch features the pack uses that came after its oldest supported torch (2.1).

Each is found by looking for the feature itself, not by reading torch's version, and
each says which torch release brought it.
"""

from typing import Callable

import torch.nn as nn


def register_load_state_dict_pre_hook(module: nn.Module, hook: Callable) -> None:
    """Call ``hook(module, state_dict, prefix, ...)`` before ``module`` loads a state
    dict. ``Module.register_load_state_dict_pre_hook`` is public from torch 2.5;
    before it, the same hook with the module as first argument is
    ``_register_load_state_dict_pre_hook(hook, with_module=True)``."""
    public = getattr(module, 'register_load_state_dict_pre_hook', None)
    if public is not None:
        public(hook)
    else:
        module._register_load_state_dict_pre_hook(hook, with_module=True)
