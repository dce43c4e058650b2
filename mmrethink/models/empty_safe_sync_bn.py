"""torch's SyncBatchNorm, safe for a process whose batch is empty under mixed precision."""

import torch
import torch.nn as nn

from mmrethink.registry import MODELS


@MODELS.register_module('EmptySafeSyncBN')
class EmptySafeSyncBN(nn.SyncBatchNorm):
    """``SyncBN`` that normalizes an empty input in float32.

    torch 2.13's SyncBatchNorm lets a process with an empty input (a mask head that got
    no RoIs) join the collectives with zero statistics and a zero count, but builds
    those in the input's dtype, while the other processes send float32 statistics
    (``torch/nn/modules/_functions.py``, forward and backward). Under mixed precision
    the empty process's fp16/bf16 buffers then differ in size from the others'. Here an
    empty low-precision input goes through in float32 and comes back in its dtype;
    every other input is untouched, so the layer is torch's SyncBN (same names, same
    state, reverted to BN on one process like it).
    """

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        """torch's SyncBN; an empty low-precision input in float32."""
        if input.numel() == 0 and input.dtype != torch.float32:
            return super().forward(input.float()).to(input.dtype)
        return super().forward(input)
