"""One switch for the settings that make long schedules cheaper on GPUs.

All through MMEngine's own mechanisms: ``AmpOptimWrapper`` (bf16 where the GPU
supports it, else fp16 with dynamic loss scaling), ``env_cfg.cudnn_benchmark`` (the
pipeline resizes to a few fixed scales, so cuDNN's autotuning is reused), and
persistent, pinned dataloader workers. None of it runs on CPU: AmpOptimWrapper and
cuDNN need CUDA, pinned memory only matters for host-to-GPU copies. Channels-last is
not included: MMEngine has no switch for it and it is unmeasured here.
"""

import torch
from mmengine.config import Config
from mmengine.logging import print_log


def enable_amp(cfg: Config) -> None:
    """Mixed precision with mmengine's AmpOptimWrapper (bf16 where supported)."""
    if not torch.cuda.is_available():
        raise SystemExit("--amp/--fast need a GPU: mmengine's AmpOptimWrapper runs on CUDA only.")
    cfg.optim_wrapper.type = 'AmpOptimWrapper'
    if torch.cuda.is_bf16_supported():
        cfg.optim_wrapper.dtype = 'bfloat16'  # fp32's range: no loss scaling needed
    else:
        cfg.optim_wrapper.loss_scale = 'dynamic'


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
    for split in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loader = cfg.get(split)
        if loader is not None and loader.get('num_workers', 0) > 0:
            loader.update(persistent_workers=True, pin_memory=True)
