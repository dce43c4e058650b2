"""Mixed precision on GPUs, checked without one: the dtype the pack picks on each kind of
GPU, and the dtype that reaches each of mmcv's CUDA kernels in every arm family.

mmcv's ops take no part in autocast: a kernel gets whatever dtype the layers before it
produced, and mmcv 2.1.0's CUDA kernels dispatch a fixed set of dtypes (``CUDA_KERNELS``,
read in mmcv 2.1.0's sources). The audit builds each family's shrunk model
(:mod:`mmrethink.diagnostics.trial`, SyncBN as BN) and runs one training step (data
preprocessing and forward under autocast, backward outside it, as mmengine's
``AmpOptimWrapper.optim_context`` and ``update_params`` do) and one inference forward
under autocast, on CPU, with mmcv's extension module replaced by a proxy that records the
dtype of every floating tensor reaching each kernel and runs the CPU kernel on float32
copies (mmcv's CPU ``nms`` and RoIAlign take float only), copying the results back.

CPU autocast is not CUDA autocast; their op lists differ. CUDA's are the ``AT_FORALL_*``
lists of ``ATen/autocast_mode.h`` (shipped with torch; ``autocast_mode.cpp`` registers
them for the CUDA key, with ``cudnn_convolution`` and a ban on ``binary_cross_entropy``);
CPU's are its own list in ``autocast_mode.cpp``. CUDA runs ``exp``, ``log``, ``pow``,
``softmax``, ``sum``, ``cumsum``, ``group_norm``, ``layer_norm``, upsampling and the
losses in float32, CPU keeps ``exp`` ... ``upsample`` in the autocast dtype; CPU has
float32 entries CUDA lacks (3-D pooling, padding, linear algebra, FFT,
``cross_entropy_loss``). Under CPU autocast alone, box decoding (``exp``) sends fp16 boxes
to ``nms`` and GN models send fp16 features to RoIAlign; on a GPU neither happens. So the
audit registers CUDA's lists, parsed from the installed torch's header, on CPU autocast's
dispatch key for its duration (:func:`cuda_autocast_on_cpu`): each op in them runs with
CUDA's policy. The CPU-only float32 entries stay; what these models reach of them are
losses, whose outputs feed no mmcv kernel.

What passing proves: with this torch's CUDA autocast policy, every family's training step
and inference send each mmcv kernel only dtypes its CUDA source dispatches, in the dtype
the pack picks on V100, T4, A100 and H100; with bf16 (the previous choice) RoIAlign gets
bfloat16 in the SyncBN families (``test_the_audit_sees_bf16_reach_roi_align``). What it
does not prove: that the CUDA kernels compute well in fp16 (overflow, loss scaling), the
full-width models, torch's SyncBN (BN stands in for it on CPU), cuDNN's kernels, or a
dtype a CUDA-only code path of mmcv or mmdet produces. ``tools/check_gpu.py`` runs every
family in the chosen dtype on GPUs: the first GPU that runs it answers those.
"""

import argparse
import importlib
import os.path as osp
import re
import runpy
import subprocess
import sys
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Dict, FrozenSet, Iterator, List, Tuple

import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.registry import DefaultScope
from torch.utils._pytree import tree_flatten, tree_map  # both in torch 2.1 and later

import mmrethink  # noqa: F401
from helpers import REPO, checkout_env
from mmrethink.diagnostics.trial import FAMILIES, family_config_path, trial_config
from mmrethink.launching.fast_path import amp_dtype, enable_amp, refuse_bf16_with_roi_align
from mmrethink.launching.launch import sync_bn_fallback
from mmrethink.launching.preflight import PreflightError

F16, BF16, F32, F64 = torch.float16, torch.bfloat16, torch.float32, torch.float64
CSRC = 'mmcv/ops/csrc/pytorch/cuda/'


@dataclass(frozen=True)
class CudaKernel:
    """What one of mmcv 2.1.0's CUDA kernels takes, read in its source."""

    args: Tuple[str, ...]  # its tensor arguments, in the order mmcv's Python passes them
    dispatch: str  # the argument whose dtype selects the kernel
    dtypes: FrozenSet[torch.dtype]  # the dtypes it is compiled for
    same_dtype: Tuple[str, ...]  # arguments read as the same scalar type as ``dispatch``
    source: str


# Every mmcv kernel the families reach (the audit fails on any other until it is added).
CUDA_KERNELS = {
    'roi_align_forward': CudaKernel(
        args=('input', 'rois', 'output', 'argmax_y', 'argmax_x'),
        dispatch='input',
        dtypes=frozenset({F32, F64, F16}),
        same_dtype=('rois', 'output', 'argmax_y', 'argmax_x'),
        source=CSRC + 'roi_align_cuda.cu: AT_DISPATCH_FLOATING_TYPES_AND_HALF('
        'input.scalar_type()), every tensor read as data_ptr<scalar_t>()',
    ),
    'roi_align_backward': CudaKernel(
        args=('grad_output', 'rois', 'argmax_y', 'argmax_x', 'grad_input'),
        dispatch='grad_output',
        dtypes=frozenset({F32, F64, F16}),
        same_dtype=('rois', 'argmax_y', 'argmax_x', 'grad_input'),
        source=CSRC + 'roi_align_cuda.cu: AT_DISPATCH_FLOATING_TYPES_AND_HALF('
        'grad_output.scalar_type()), every tensor read as data_ptr<scalar_t>()',
    ),
    'nms': CudaKernel(
        args=('boxes', 'scores'),
        dispatch='boxes',
        dtypes=frozenset({F32}),
        same_dtype=(),
        source=CSRC + 'nms_cuda.cu: boxes read as data_ptr<float>(); scores only sorted '
        '(scores.sort), any dtype',
    ),
}
# What every Mask/Faster R-CNN step reaches: RPN and R-CNN nms, RoIAlign both ways.
ALWAYS_REACHED = {'nms', 'roi_align_forward', 'roi_align_backward'}

# --- CUDA's autocast policy on CPU ------------------------------------------------------

AUTOCAST_HEADER = osp.join(osp.dirname(torch.__file__), 'include', 'ATen', 'autocast_mode.h')
# The header's lists and the cast each applies on CUDA. fp32_set_opt_dtype and
# fp32_append_dtype (the ``norm`` overloads) pass dtype=float32 instead of casting the
# input: the output's dtype, all the audit looks at, is the same.
CUDA_LISTS = {
    'AT_FORALL_LOWER_PRECISION_FP': 'lower',
    'AT_FORALL_FP32': 'fp32',
    'AT_FORALL_FP32_SET_OPT_DTYPE': 'fp32',
    'AT_FORALL_DIFFERENT_REDISPATCH_SIGNATURE': 'fp32',
    'AT_FORALL_PROMOTE': 'promote',
}


def cuda_autocast_policy() -> Dict[str, str]:
    """``{'aten op.overload': 'lower' | 'fp32' | 'promote'}`` from the installed torch."""
    with open(AUTOCAST_HEADER) as f:
        header = f.read()
    policy = {}
    for macro, cast in CUDA_LISTS.items():
        body = re.search(rf'#define {macro}\(_\)(.*?)\n\n', header, re.S).group(1)
        names = re.findall(r'"([\w.]+)"', body) or [
            '.'.join(part.strip() for part in entry.split(','))
            for entry in re.findall(r'_\(([\w\s,]+)\)', body)
        ]
        policy.update(dict.fromkeys(names, cast))
    policy['cudnn_convolution'] = 'lower'  # CUDA-only op, not in the header's lists
    return policy


def _eligible(value: object) -> bool:
    """What CUDA autocast casts: floating tensors other than float64."""
    return isinstance(value, torch.Tensor) and value.is_floating_point() and value.dtype != F64


def _with_cast(op: Callable, cast: str) -> Callable:
    def kernel(*args, **kwargs):
        low = torch.get_autocast_dtype('cpu')
        if cast == 'lower':
            to = low
        elif cast == 'fp32':
            to = F32
        else:  # promote: the widest floating input
            wide = any(t.dtype == F32 for t in tree_flatten((args, kwargs))[0] if _eligible(t))
            to = F32 if wide else low
        args, kwargs = tree_map(lambda t: t.to(to) if _eligible(t) else t, (args, kwargs))
        with torch._C._ExcludeDispatchKeyGuard(
            torch._C.DispatchKeySet(torch._C.DispatchKey.AutocastCPU)
        ):
            return op(*args, **kwargs)

    return kernel


def _banned(*args, **kwargs):
    raise RuntimeError('binary_cross_entropy is banned under CUDA autocast')


@contextmanager
def cuda_autocast_on_cpu() -> Iterator[None]:
    """While inside, ``torch.autocast('cpu')`` casts as CUDA autocast does."""
    library = torch.library.Library('aten', 'IMPL')
    with warnings.catch_warnings():
        warnings.filterwarnings('ignore', 'Warning only once for all operators')
        for name, cast in cuda_autocast_policy().items():
            base, _, overload = name.partition('.')
            op = getattr(getattr(torch.ops.aten, base), overload or 'default')
            library.impl(name, _with_cast(op, cast), 'AutocastCPU')
        library.impl('binary_cross_entropy', _banned, 'AutocastCPU')
    try:
        yield
    finally:
        library._destroy()  # the CPU policy again


def test_cuda_autocast_on_cpu_casts_as_cuda_and_only_while_inside():
    x = torch.randn(2, 8, 6, 6)
    weight = torch.randn(8, 8, 3, 3)

    def dtypes() -> Tuple[torch.dtype, ...]:
        with torch.autocast('cpu', dtype=F16):
            y = torch.nn.functional.conv2d(x, weight)
            norm = torch.nn.functional.group_norm(y, 4)
            batch_norm = torch.nn.functional.batch_norm(y, None, None, training=True)
            return y.dtype, y.exp().dtype, norm.dtype, y.softmax(1).dtype, batch_norm.dtype

    assert dtypes() == (F16, F16, F16, F16, F16)  # CPU's lists
    with cuda_autocast_on_cpu():
        assert dtypes() == (F16, F32, F32, F32, F16)  # CUDA's: exp, group_norm, softmax
    assert dtypes() == (F16, F16, F16, F16, F16)


# --- the proxy for mmcv's extension module ----------------------------------------------


class RecordingExt:
    """mmcv's ``_ext`` module that records, per call, each floating tensor argument's
    dtype, and runs the CPU kernel on float32 copies, copying them back into the
    caller's tensors (mmcv's kernels write their outputs into arguments)."""

    def __init__(self, ext: object) -> None:
        self.ext = ext
        self.calls: List[Tuple[str, Dict[object, torch.dtype]]] = []

    def __getattr__(self, name: str) -> Callable:
        kernel = getattr(self.ext, name)

        def call(*args, **kwargs):
            named = list(enumerate(args)) + list(kwargs.items())
            self.calls.append((name, {k: v.dtype for k, v in named if _floating(v)}))
            copies = []

            def as_float(value):
                if _floating(value) and value.dtype != F32:
                    copies.append((value, value.float()))
                    return copies[-1][1]
                return value

            result = kernel(*map(as_float, args), **{k: as_float(v) for k, v in kwargs.items()})
            for original, copy in copies:  # what the kernel wrote; inputs keep their version
                if not torch.equal(copy.to(original.dtype), original):
                    original.copy_(copy)
            return result

        return call


def _floating(value: object) -> bool:
    return isinstance(value, torch.Tensor) and value.is_floating_point()


@contextmanager
def recording_mmcv_ops(monkeypatch: pytest.MonkeyPatch) -> Iterator[RecordingExt]:
    """Every ``mmcv.ops`` module's ``ext_module`` replaced by one :class:`RecordingExt`."""
    import mmcv.ops  # noqa: F401  loads every op module

    ext = importlib.import_module('mmcv._ext')
    proxy = RecordingExt(ext)
    with monkeypatch.context() as patch:
        for module in list(sys.modules.values()):
            if getattr(module, '__name__', '').startswith('mmcv.'):
                if getattr(module, 'ext_module', None) is ext:
                    patch.setattr(module, 'ext_module', proxy)
        yield proxy


def violations(calls: List[Tuple[str, Dict[object, torch.dtype]]]) -> List[str]:
    """Each call whose dtypes the op's CUDA kernel does not take, said with its source."""
    found = set()
    for name, dtypes in calls:
        kernel = CUDA_KERNELS.get(name)
        if kernel is None:
            found.add(f'{name}: not in CUDA_KERNELS; read its CUDA kernel and add it')
            continue
        by_name = {kernel.args[k] if isinstance(k, int) else k: v for k, v in dtypes.items()}
        dispatched = by_name[kernel.dispatch]
        if dispatched not in kernel.dtypes:
            found.add(f'{name}: {kernel.dispatch} {dispatched} ({kernel.source})')
        for arg in kernel.same_dtype:
            if by_name.get(arg, dispatched) != dispatched:
                found.add(f'{name}: {arg} {by_name[arg]} != {kernel.dispatch} {dispatched}')
    return sorted(found)


# --- the families' models and data -------------------------------------------------------


def _family_model(family: str, data_root: str, tmp_path) -> Tuple[torch.nn.Module, Config]:
    from mmdet.registry import MODELS

    cfg = trial_config(family_config_path(family), data_root, checkpoint_dir=str(tmp_path))
    sync_bn_fallback(cfg, 'CPU audit')  # what a CPU run of the launcher does
    with DefaultScope.overwrite_default_scope('mmdet'):
        return MODELS.build(cfg.model), cfg


def _batch(cfg: Config, split: str, size: int) -> dict:
    from mmdet.registry import DATASETS

    with DefaultScope.overwrite_default_scope('mmdet'):
        dataset = DATASETS.build(cfg[split].dataset)
    return pseudo_collate([dataset[i] for i in range(size)])


def audit(family: str, dtype: torch.dtype, data_root: str, tmp_path, monkeypatch) -> List:
    """The mmcv calls of one training step and one inference of ``family`` in ``dtype``."""
    torch.manual_seed(0)
    model, cfg = _family_model(family, data_root, tmp_path)
    train, val = _batch(cfg, 'train_dataloader', 2), _batch(cfg, 'val_dataloader', 1)
    with recording_mmcv_ops(monkeypatch) as ext, cuda_autocast_on_cpu():
        model.train()
        with torch.autocast('cpu', dtype=dtype):
            losses = model(**model.data_preprocessor(train, True), mode='loss')
        loss, _ = model.parse_losses(losses)
        loss.backward()
        model.eval()
        with torch.no_grad(), torch.autocast('cpu', dtype=dtype):
            model(**model.data_preprocessor(val, False), mode='predict')
    return ext.calls


# --- the dtype the pack picks ------------------------------------------------------------

# Compute capability of each kind of GPU (NVIDIA's tables).
GPUS = {'V100': (7, 0), 'T4': (7, 5), 'A100': (8, 0), 'H100': (9, 0)}


def fake_gpu(patch: pytest.MonkeyPatch, name: str) -> None:
    """torch.cuda answering as on ``name`` under torch >= 2.4, where
    ``is_bf16_supported()`` is true on every CUDA GPU (emulated before sm80)."""
    patch.setattr(torch.cuda, 'is_available', lambda: True)
    patch.setattr(torch.cuda, 'get_device_capability', lambda device=None: GPUS[name])
    patch.setattr(torch.cuda, 'get_device_name', lambda device=None: f'NVIDIA {name}')
    patch.setattr(torch.cuda, 'is_bf16_supported', lambda including_emulation=True: True)


def chosen_dtypes(monkeypatch: pytest.MonkeyPatch) -> Dict[str, torch.dtype]:
    """The autocast dtype ``enable_amp`` sets on each kind of GPU."""
    chosen = {}
    for gpu in GPUS:
        cfg = Config(dict(optim_wrapper=dict(type='OptimWrapper'), model=dict()))
        with monkeypatch.context() as patch:
            fake_gpu(patch, gpu)
            enable_amp(cfg)
        chosen[gpu] = getattr(torch, cfg.optim_wrapper.dtype)
    return chosen


@pytest.mark.parametrize('family', sorted(FAMILIES))
def test_mmcv_ops_get_dtypes_their_cuda_kernels_take(family, trial_data, tmp_path, monkeypatch):
    for dtype in sorted(set(chosen_dtypes(monkeypatch).values()), key=str):
        calls = audit(family, dtype, trial_data, tmp_path, monkeypatch)
        assert ALWAYS_REACHED <= {name for name, _ in calls}
        assert violations(calls) == [], f'{family} in {dtype}'


def test_the_audit_sees_bf16_reach_roi_align(trial_data, tmp_path, monkeypatch):
    """The previous choice, bf16, in an LSJ arm: SyncBN keeps the FPN's features in bf16
    and mmdet's RoI extractor casts the RoIs to them, so RoIAlign gets bf16 both ways."""
    found = violations(audit('lsj-scratch', BF16, trial_data, tmp_path, monkeypatch))
    assert (
        'roi_align_forward: input torch.bfloat16 (' + CUDA_KERNELS['roi_align_forward'].source + ')'
        in found
    )
    assert any(v.startswith('roi_align_backward: grad_output torch.bfloat16') for v in found)


@pytest.mark.parametrize('gpu', sorted(GPUS))
@pytest.mark.parametrize(
    'family, flags',
    [('lsj-scratch', []), ('mask-gn-scratch', ['--amp']), ('mask-syncbn-pretrained', ['--fast'])],
)
def test_train_picks_fp16_with_loss_scaling_on_every_gpu(family, flags, gpu, monkeypatch, capsys):
    """tools/train.py's config for an LSJ arm (mixed_precision.enable), --amp and --fast."""
    train = runpy.run_path(osp.join(REPO, 'tools', 'train.py'))
    args = argparse.Namespace(
        config=family_config_path(family),
        amp='--amp' in flags,
        fast='--fast' in flags,
        auto_scale_lr=False,
        resume=None,
        launcher='none',
        cfg_options=None,
        work_dir=None,
    )
    fake_gpu(monkeypatch, gpu)
    cfg = train['build_config'](args)
    wrapper = cfg.optim_wrapper
    assert (wrapper.type, wrapper.dtype, wrapper.loss_scale) == (
        'AmpOptimWrapper',
        'float16',
        'dynamic',
    )
    log = capsys.readouterr().out
    assert f'mixed precision: float16 (NVIDIA {gpu} (sm{"".join(map(str, GPUS[gpu]))})' in log
    assert ('RoIAlign' in log) == (GPUS[gpu] >= (8, 0))  # why not bf16, where it is native


def test_no_gpu_means_fp32_and_amp_is_refused(monkeypatch):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    assert amp_dtype() == (None, "no GPU: mmengine's AmpOptimWrapper runs on CUDA only, so fp32")
    cfg = Config(dict(optim_wrapper=dict(type='OptimWrapper'), model=dict()))
    with pytest.raises(SystemExit, match='need a GPU'):
        enable_amp(cfg)
    assert cfg.optim_wrapper.type == 'OptimWrapper'


def test_a_configs_own_loss_scale_is_kept(monkeypatch):
    fake_gpu(monkeypatch, 'A100')
    cfg = Config(dict(optim_wrapper=dict(type='OptimWrapper', loss_scale=512.0), model=dict()))
    enable_amp(cfg)
    assert (cfg.optim_wrapper.dtype, cfg.optim_wrapper.loss_scale) == ('float16', 512.0)


def test_bf16_is_refused_naming_roi_align_and_the_fix(tmp_path):
    """A config of the user's own asking for bf16, on the user's path (no GPU needed: the
    refusal comes before anything is built)."""
    config = osp.join(REPO, 'configs', FAMILIES['mask-gn-scratch'])
    proc = subprocess.run(
        [sys.executable, osp.join(REPO, 'tools', 'train.py'), config, '--work-dir',
         str(tmp_path / 'work'), '--cfg-options', 'optim_wrapper.type=AmpOptimWrapper',
         'optim_wrapper.dtype=bfloat16']
        ,
        capture_output=True, text=True, env=checkout_env(), cwd=str(tmp_path),
    )  # fmt: skip
    assert proc.returncode != 0
    assert "optim_wrapper.dtype='bfloat16'" in proc.stderr
    assert "mmcv's RoIAlign" in proc.stderr and "set it to 'float16'" in proc.stderr
    assert not (tmp_path / 'work').exists()


def test_bf16_without_roi_align_is_accepted():
    classifier = Config.fromfile(
        osp.join(REPO, 'configs', 'demo', 'classifier_r18-mini_shapes-cls.py')
    )
    classifier.optim_wrapper.update(type='AmpOptimWrapper', dtype='bfloat16')
    refuse_bf16_with_roi_align(classifier)  # no mmcv op: bf16 is the user's to choose
    detector = Config.fromfile(osp.join(REPO, 'configs', FAMILIES['mask-gn-scratch']))
    detector.optim_wrapper.update(type='AmpOptimWrapper', dtype='bfloat16')
    with pytest.raises(PreflightError, match='RoIAlign'):
        refuse_bf16_with_roi_align(detector)
