"""Load mmengine checkpoints under torch >= 2.6 without unpickling arbitrary code.

torch 2.6 made ``torch.load(weights_only=True)`` the default; mmengine 0.10.7 calls
``torch.load`` without the argument, and its checkpoints hold ``HistoryBuffer`` objects
(with numpy arrays and references to the buffer's statistics methods) in
``message_hub``, so ``--resume`` fails with "Weights only load failed". We do *not*
turn ``weights_only`` off: we add exactly what mmengine itself writes to torch's
allowlist. The method references are pickled as ``getattr(HistoryBuffer, name)``;
instead of allowing ``getattr`` (which reaches anything), the name ``builtins.getattr``
is bound to a lookup that only returns HistoryBuffer's own methods. Any other object in
a file still fails to load, so an untrusted checkpoint cannot run code.
"""

import pickle
from typing import Any

import numpy as np
import torch
from mmengine.logging import HistoryBuffer


def history_buffer_method(owner: Any, name: str) -> Any:
    """``getattr`` for unpickling, limited to HistoryBuffer's public methods."""
    if (
        owner is HistoryBuffer
        and not name.startswith('_')
        and callable(getattr(HistoryBuffer, name, None))
    ):
        return getattr(HistoryBuffer, name)
    raise pickle.UnpicklingError(
        f'checkpoint asks for getattr({owner!r}, {name!r}); only HistoryBuffer methods '
        'are allowed. Load it with torch.load(..., weights_only=False) only if you '
        'trust its source.'
    )


# What mmengine's CheckpointHook and Runner.save_checkpoint put in a file besides tensors.
MMENGINE_CHECKPOINT_GLOBALS = [
    HistoryBuffer,
    (history_buffer_method, 'builtins.getattr'),
    np.ndarray,
    np.dtype,
    np.core.multiarray._reconstruct,
    np.core.multiarray.scalar,
    *{type(np.dtype(t)) for t in (np.float64, np.float32, np.int64, np.int32, np.bool_)},
]


def allow_mmengine_checkpoint_types() -> None:
    """Add mmengine's checkpoint contents to torch's ``weights_only`` allowlist."""
    torch.serialization.add_safe_globals(MMENGINE_CHECKPOINT_GLOBALS)
