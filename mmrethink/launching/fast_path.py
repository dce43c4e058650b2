"""One switch for the settings that make long schedules cheaper on GPUs.

All through MMEngine's own mechanisms: ``AmpOptimWrapper`` (fp16 with dynamic loss
scaling, :func:`amp_dtype` says why not bf16), ``env_cfg.cudnn_benchmark`` (the
pipeline resizes to a few fixed scales, so cuDNN's autotuning is reused), and
persistent, pinned dataloader workers. None of it runs on CPU: AmpOptimWrapper and
cuDNN need CUDA, pinned memory only matters for host-to-GPU copies. Channels-last is
not included: MMEngine has no switch for it and it is unmeasured here.
"""

from typing import Optional, Tuple

import torch
from mmengine.config import Config
from mmengine.logging import print_log

from mmrethink.utils.configs import DATALOADERS, typed_dicts

from .preflight import PreflightError

# mmcv 2.1.0's CUDA RoIAlign dispatches float, double and half only
# (mmcv/ops/csrc/pytorch/cuda/roi_align_cuda.cu: AT_DISPATCH_FLOATING_TYPES_AND_HALF),
# and every arm's RoI heads and mask targets go through it; tests/test_mixed_precision.py
# audits the dtype that reaches each mmcv op of every arm family.
ROI_ALIGN_DTYPES = 'float32, float64, float16'


def amp_dtype() -> Tuple[Optional[str], str]:
    """The dtype mixed precision trains in on this machine (None: no GPU, fp32), and why.

    fp16 with dynamic loss scaling on every GPU, as Detectron2 trains these arms
    (``train.amp.enabled``, ``torch.cuda.amp.GradScaler``). Not bf16, even where the GPU
    has it natively (sm80 and later): under autocast a SyncBN or BN model's features stay
    in the autocast dtype up to RoIAlign, whose CUDA kernel has no bf16. Before sm80
    ``torch.cuda.is_bf16_supported()`` is also true, by emulation, which is slow.
    """
    if not torch.cuda.is_available():
        return None, "no GPU: mmengine's AmpOptimWrapper runs on CUDA only, so fp32"
    major, minor = torch.cuda.get_device_capability()
    gpu = f'{torch.cuda.get_device_name()} (sm{major}{minor})'
    if major >= 8:
        why = (
            f"{gpu} has bf16, but mmcv 2.1.0's CUDA RoIAlign takes {ROI_ALIGN_DTYPES} "
            'only (roi_align_cuda.cu)'
        )
    else:
        why = f'{gpu} has no native bf16 (sm80 and later have it)'
    return 'float16', f'{why}; fp16 with dynamic loss scaling, as Detectron2 trains these arms'


def refuse_bf16_with_roi_align(cfg: Config) -> None:
    """Refuse a config that asks for bf16 autocast in a model with mmcv's RoIAlign: it
    would stop at the first RoI of the first iteration on the GPU."""
    wrapper = cfg.get('optim_wrapper') or {}
    if str(wrapper.get('dtype')) not in ('bfloat16', 'torch.bfloat16'):
        return
    if not any(typed_dicts(cfg.model, 'RoIAlign')):
        return
    raise PreflightError(
        f"optim_wrapper.dtype='bfloat16': this model's RoI heads use mmcv's RoIAlign, "
        f'whose CUDA kernel (mmcv 2.1.0, roi_align_cuda.cu) takes {ROI_ALIGN_DTYPES} '
        'only. Drop optim_wrapper.dtype (tools/train.py --amp picks fp16 with dynamic '
        "loss scaling) or set it to 'float16'."
    )


def enable_amp(cfg: Config) -> None:
    """Mixed precision with mmengine's AmpOptimWrapper, in :func:`amp_dtype`'s dtype."""
    dtype, why = amp_dtype()
    if dtype is None:
        raise SystemExit("--amp/--fast need a GPU: mmengine's AmpOptimWrapper runs on CUDA only.")
    refuse_bf16_with_roi_align(cfg)
    cfg.optim_wrapper.type = 'AmpOptimWrapper'
    cfg.optim_wrapper.dtype = dtype
    cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')  # a config's own scale is kept
    print_log(f'mixed precision: {dtype} ({why})')


def amp_requested(cfg: Config, flag: bool) -> bool:
    """``--amp``, or the config's ``mixed_precision.enable`` (the LSJ arms train in mixed
    precision as Detectron2 does) where a GPU is there to run it."""
    if flag:
        return True
    if not cfg.get('mixed_precision', {}).get('enable'):
        return False
    if not torch.cuda.is_available():
        print_log('mixed_precision.enable is set but there is no GPU: training in fp32.')
        return False
    return True


def enable_fast_path(cfg: Config) -> None:
    """Mixed precision, cuDNN autotuning, persistent pinned loader workers."""
    enable_amp(cfg)
    cfg.env_cfg.cudnn_benchmark = True
    for split in DATALOADERS:
        loader = cfg.get(split)
        if loader is not None and loader.get('num_workers', 0) > 0:
            loader.update(persistent_workers=True, pin_memory=True)
