"""Load mmengine checkpoints on every supported torch without unpickling arbitrary code
where torch refuses it by default.

torch 2.6 made ``torch.load(weights_only=True)`` the default (its release notes);
mmengine 0.10.7 calls ``torch.load`` without the argument, and its checkpoints hold
``HistoryBuffer`` objects (with numpy arrays and references to the buffer's statistics
methods) in ``message_hub``, so ``--resume`` fails with "Weights only load failed". We do
*not* turn ``weights_only`` off there: we add exactly what mmengine itself writes to
torch's allowlist. The method references are pickled as ``getattr(HistoryBuffer, name)``;
instead of allowing ``getattr`` (which reaches anything), the name ``builtins.getattr``
is bound to a lookup that only returns HistoryBuffer's own methods, an
``(object, 'module.name')`` entry that ``add_safe_globals`` takes from torch 2.6 on (it
came in 2.4, pytorch/pytorch#124331, for classes and functions only). Any other object
in a file still fails to load, so an untrusted checkpoint cannot run code.

torch 2.1-2.5 load with ``weights_only=False`` by default, mmengine's own loads read its
checkpoints as they are, and the allowlist is neither needed nor (before 2.6) able to
hold the ``getattr`` entry: there the pack loads as mmengine does, with torch's default.
Which case holds is found by what torch does, not by its version: a checkpoint-shaped
object is saved and loaded with torch's defaults (``mmengine_checkpoints_load``).
"""

import io
import pickle
import warnings
from typing import Any, Dict

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


def _checkpoint_like() -> Dict[str, Any]:
    """A small object with every kind of global in MMENGINE_CHECKPOINT_GLOBALS, as
    mmengine's message hub writes them."""
    buffer = HistoryBuffer()
    buffer.update(1.0)
    return {
        'state_dict': {'w': torch.zeros(1)},
        'message_hub': {
            'log_scalars': {'train/loss': buffer},
            'method': HistoryBuffer.mean,
            'arrays': [np.zeros(2, np.float32), np.float64(1.0), np.int64(1), np.bool_(True)],
        },
    }


def mmengine_checkpoints_load() -> bool:
    """Whether ``torch.load`` with its defaults (mmengine's call) reads an mmengine
    checkpoint; False where torch loads weights only by default and the allowlist does
    not hold mmengine's contents (yet)."""
    file = io.BytesIO()
    torch.save(_checkpoint_like(), file)
    file.seek(0)
    with warnings.catch_warnings():
        # torch 2.4-2.5 warn on every load without weights_only; this one is ours.
        warnings.simplefilter('ignore', FutureWarning)
        try:
            torch.load(file, map_location='cpu')
        except pickle.UnpicklingError:
            return False
    return True


def allow_mmengine_checkpoint_types() -> None:
    """Add mmengine's checkpoint contents to torch's ``weights_only`` allowlist where
    torch loads weights only by default (torch >= 2.6, or an older torch run with
    ``TORCH_FORCE_WEIGHTS_ONLY_LOAD``); elsewhere nothing is needed. Where the allowlist
    cannot be made to read them, say so once: training runs, ``--resume`` would fail."""
    if mmengine_checkpoints_load():
        return
    try:
        torch.serialization.add_safe_globals(MMENGINE_CHECKPOINT_GLOBALS)
        loads = mmengine_checkpoints_load()
    except Exception as error:  # torch < 2.4 has no allowlist; < 2.6 refuses the entries
        loads, why = False, f' ({type(error).__name__}: {error})'
    else:
        why = ''
    if not loads:
        warnings.warn(
            f'torch {torch.__version__} loads checkpoints with weights_only=True by '
            f'default and cannot be made to read mmengine checkpoints{why}, so --resume '
            'will fail: unset TORCH_FORCE_WEIGHTS_ONLY_LOAD, or install a torch the pack '
            'supports (docs/get_started.md, "Supported versions").',
            stacklevel=2,
        )
