"""What tools/train.py and tools/test.py share: flags, config loading, launch set-up.

mmengine 0.10.7 assumes CUDA whenever a launcher is used (``init_dist`` calls
``torch.cuda.set_device`` and DDP is given ``device_ids``), and SyncBN has no CPU
kernel. :func:`prepare_launch` makes the same entry points run on CPU-only machines
with the gloo backend, and falls back from SyncBN to BN with one clear warning
wherever SyncBN cannot run.
"""

import argparse
import os
import os.path as osp
import subprocess
import warnings
from typing import Any, Callable, List, TypeVar

import torch
import torch.distributed as dist
from mmengine.config import Config, ConfigDict, DictAction
from mmengine.dist import init_dist
from mmengine.registry import RUNNERS
from mmengine.runner import Runner
from mmengine.utils.dl_utils import set_multi_processing

from mmrethink.utils.configs import typed_dicts
from mmrethink.utils.refusal import Refusal

from .preflight import PreflightError

T = TypeVar('T')


def world_size(launcher: str) -> int:
    """Number of processes of this run, known before the Runner starts."""
    if launcher == 'pytorch':
        return int(os.environ.get('WORLD_SIZE', 1))
    if launcher == 'slurm':
        return int(os.environ.get('SLURM_NTASKS', 1))
    if launcher == 'mpi':
        return int(os.environ.get('OMPI_COMM_WORLD_SIZE', 1))
    return 1


# The synchronized norms configs name; none runs on CPU or in one process.
SYNC_NORMS = ('SyncBN', 'MMSyncBN', 'EmptySafeSyncBN')


def sync_bn_fallback(cfg: Config, reason: str) -> None:
    """Turn the config's SyncBN layers into BN, warning once if there were any."""
    sync_norms = list(typed_dicts(cfg.model, *SYNC_NORMS))
    for norm_cfg in sync_norms:
        norm_cfg['type'] = 'BN'
        norm_cfg.pop('stats_mode', None)
    if sync_norms:
        warnings.warn(
            f'SyncBN is used as plain BN in this run ({reason}): each process '
            'normalizes with its own batch statistics. Run with --launcher pytorch on '
            'GPUs (tools/dist_train.sh) for SyncBN.',
            stacklevel=2,
        )


def _slurm_first_node() -> str:
    """The job's first node, the rendezvous host (as mmengine's GPU set-up picks it)."""
    nodes = subprocess.run(
        ['scontrol', 'show', 'hostnames', os.environ['SLURM_NODELIST']],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return nodes[0]


def _init_cpu_process_group(launcher: str) -> None:
    if launcher == 'slurm':
        os.environ.setdefault('RANK', os.environ['SLURM_PROCID'])
        os.environ.setdefault('WORLD_SIZE', os.environ['SLURM_NTASKS'])
        os.environ.setdefault('LOCAL_RANK', os.environ.get('SLURM_LOCALID', '0'))
        os.environ.setdefault('MASTER_PORT', '29500')
        if 'MASTER_ADDR' not in os.environ:
            os.environ['MASTER_ADDR'] = _slurm_first_node()
    elif launcher != 'pytorch':
        raise RuntimeError(f'--launcher {launcher} needs CUDA; on CPU use pytorch or slurm.')
    dist.init_process_group(backend='gloo', init_method='env://')


def prepare_launch(cfg: Config, launcher: str) -> None:
    """Set up what mmengine cannot for this launcher and machine, and start the
    process group (as the Runner would, earlier: the checks before it run once)."""
    if launcher == 'none':
        sync_bn_fallback(cfg, 'a single process (--launcher none)')
        return
    if torch.cuda.is_available():
        if not dist.is_initialized():  # Runner.setup_env's own calls, in its order
            set_multi_processing(**cfg.env_cfg.get('mp_cfg', {}), distributed=True)
            init_dist(launcher, **cfg.env_cfg.get('dist_cfg', {}))
        return
    sync_bn_fallback(cfg, 'distributed on CPU: SyncBN has no CPU kernel')
    if not dist.is_initialized():
        _init_cpu_process_group(launcher)
    cfg.env_cfg.setdefault('dist_cfg', {})['backend'] = 'gloo'
    wrapper = cfg.get('model_wrapper_cfg') or dict(type='MMDistributedDataParallel')
    wrapper['device_ids'] = None  # CPU modules take no device ids
    cfg.model_wrapper_cfg = wrapper


def on_rank_zero(check: Callable[[], T]) -> T:
    """``check()`` run once, by rank 0, while the other ranks wait (checks that read a
    whole dataset on shared storage); its result, or its refusal, reaches every rank."""
    if not dist.is_initialized() or dist.get_world_size() == 1:
        return check()
    outcome: List[Any] = [None]
    if dist.get_rank() == 0:
        try:
            outcome = [('done', check())]
        except Refusal as refusal:
            outcome = [('refused', refusal)]
        except BaseException as error:
            dist.broadcast_object_list([('failed', repr(error))], src=0)
            raise
    dist.broadcast_object_list(outcome, src=0)
    kind, value = outcome[0]
    if kind == 'refused':
        raise value
    if kind == 'failed':
        raise RuntimeError(f'rank 0 failed in the checks before training: {value}')
    return value


def finish_launch() -> None:
    """Leave the process group together: gloo aborts a process (SIGABRT) that exits
    while another rank still talks to it, which a run ending on every rank can hit."""
    if dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


def add_launch_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags tools/train.py and tools/test.py share with mmdet's."""
    parser.add_argument('--work-dir', help='the dir to save logs, models and metrics')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, e.g. key=value key.sub=value',
    )
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher',
    )
    # torch.distributed.launch passes --local-rank (torch >= 2.0) or --local_rank.
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def parse_launch_args(parser: argparse.ArgumentParser) -> argparse.Namespace:
    """Parse the flags and export LOCAL_RANK for mmengine, as mmdet does."""
    args = parser.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def load_config(args: argparse.Namespace) -> Config:
    """Parse ``args.config`` as mmdet's tools do: options merged, work dir defaulted."""
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    return cfg


def build_runner(cfg: Config) -> Runner:
    """The config's Runner (or its custom ``runner_type``)."""
    return Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)


def use_test_time_aug(cfg: Config) -> None:
    """Test with the config's ``tta_model`` around its model and its ``tta_pipeline`` on
    the test set, as mmdet's ``tools/test.py --tta`` does (without its flip-only
    default: a config that sets neither is refused, naming the base that does)."""
    missing = [key for key in ('tta_model', 'tta_pipeline') if key not in cfg]
    if missing:
        raise PreflightError(
            f'--tta: the config sets no {" and no ".join(missing)}. Inherit '
            "configs/_base_/test_time_aug.py (the paper's test aug, as the Cascade X152 "
            'arm does) or set both.'
        )
    cfg.model = ConfigDict(**cfg.tta_model, module=cfg.model)
    dataset = cfg.test_dataloader.dataset
    while 'dataset' in dataset:
        dataset = dataset.dataset
    dataset.pipeline = cfg.tta_pipeline
