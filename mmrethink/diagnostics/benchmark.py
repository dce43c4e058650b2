"""Training throughput of one or more configs, interleaved in one process: the library
behind ``tools/benchmark_train.py``.

:func:`time_configs` builds each config's Runner (model, real data pipeline, optimizer,
every hook), then runs warm-up iterations and N timed ones through the train loop's own
``run_iter``, alternating configs iteration by iteration so a noisy machine slows all
alike. It reports median s/iter, images/s, the data-loading share, the GFLOP of one
iteration and the share of the fp32 matmul peak that it reaches, the dataset read and
peak memory, and with two or more configs the ratio to the first (median of per-round
ratios).

Peak memory is measured per config in a separate process (in one process the configs'
models and optimizer states would all count towards every row's peak), started as this
module's entry point::

    python -m mmrethink.diagnostics.benchmark CONFIG --result FILE [options]

which trains CONFIG alone for a few iterations and writes ``{"peak_mem_mb": ...,
"dataset": ...}`` (CUDA ``max_memory_allocated`` on a GPU, the peak RSS on CPU) to FILE.
"""

import argparse
import json
import os
import os.path as osp
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, fields
from typing import Dict, List, Optional, Sequence

import torch
from mmengine.config import Config, DictAction
from mmengine.runner import IterBasedTrainLoop, Runner
from torch.utils.flop_counter import FlopCounterMode

from mmrethink.datasets import DETECTION_SHAPES, make_detection_set
from mmrethink.diagnostics.runner_stepping import start_training
from mmrethink.diagnostics.shrink import shrink_images, shrink_model
from mmrethink.launching.fast_path import amp_requested, enable_amp, enable_fast_path
from mmrethink.launching.launch import sync_bn_fallback
from mmrethink.utils.configs import as_list, read_config, typed_dicts

SHRUNK_SHORT_SIDE = 256
ENTRY_POINT = 'mmrethink.diagnostics.benchmark'  # python -m, for the memory runs
# The folder holding mmrethink/, so that the memory runs import this same code.
PACKAGE_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


@dataclass(frozen=True)
class BenchOptions:
    """How to time the configs: the command line's options (see :func:`add_options`)."""

    iters: int = 30
    warmup: int = 5
    shrink: bool = False
    synthetic: int = 64
    data_root: Optional[str] = None
    workers: int = 0
    fast: bool = False
    cfg_options: Optional[Dict] = None


def add_options(parser: argparse.ArgumentParser) -> None:
    """The options of ``tools/benchmark_train.py`` and of this module's entry point."""
    parser.add_argument(
        '--iters', type=int, default=BenchOptions.iters, help='timed iterations per config'
    )
    parser.add_argument('--warmup', type=int, default=BenchOptions.warmup)
    parser.add_argument('--shrink', action='store_true', help='toy-width model, 256-px images')
    parser.add_argument(
        '--synthetic',
        type=int,
        default=BenchOptions.synthetic,
        help='generated training images when --data-root is not given',
    )
    parser.add_argument('--data-root', help='a COCO-format root (default: synthetic data)')
    parser.add_argument(
        '--workers',
        type=int,
        default=BenchOptions.workers,
        help='dataloader workers (0: loading is timed in-process)',
    )
    parser.add_argument('--fast', action='store_true', help='tools/train.py --fast settings')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)


def options_from(args: argparse.Namespace) -> BenchOptions:
    """The :class:`BenchOptions` of parsed :func:`add_options` arguments."""
    return BenchOptions(**{f.name: getattr(args, f.name) for f in fields(BenchOptions)})


def display_name(config: str) -> str:
    """A short name for tables: the file's stem, with its scope if any."""
    name = osp.splitext(osp.basename(config))[0]
    return f'{config.split("::")[0]}::{name}' if '::' in config else name


def prepare(config: str, args: BenchOptions, data_root: str, work_dir: str) -> Config:
    """``config`` made timeable: the given data, no evaluation, no checkpoints, quiet.

    With ``--data-root`` the config's own dataset (annotation file, classes, pipeline)
    is read from that root; without it, from the generated shapes set.
    """
    cfg = read_config(config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    sync_bn_fallback(cfg, 'benchmark in one process')
    if args.fast:
        enable_fast_path(cfg)
    elif amp_requested(cfg, False):  # the LSJ arms train in mixed precision on GPUs
        enable_amp(cfg)
    if args.shrink:
        cfg.model = shrink_model(cfg.model)
        shrink_images(cfg, SHRUNK_SHORT_SIDE)
    loader = cfg.train_dataloader
    loader.update(num_workers=args.workers, persistent_workers=args.workers > 0)
    datasets = list(typed_dicts(loader.dataset, 'CocoDataset', 'VOCDataset'))
    # The demo's arms render their own images (timed as loading): no root to point them at.
    renders = loader.dataset.get('type') == 'SyntheticShapesStream'
    if args.data_root and not renders:
        for dataset in datasets:  # VOC's are inside a ConcatDataset
            dataset['data_root'] = data_root
    elif not renders:  # the generated set, keeping the config's own pipeline
        if len(datasets) != 1 or datasets[0]['type'] != 'CocoDataset':
            raise SystemExit(
                f'{config}: the generated set stands in for one COCO dataset; give '
                "--data-root for this config's own data."
            )
        datasets[0].update(
            data_root=data_root,
            ann_file='annotations/instances_train.json',
            data_prefix=dict(img='train/'),
            metainfo=dict(classes=DETECTION_SHAPES),
        )
        for head in as_list(cfg.model.roi_head.bbox_head):
            head.num_classes = len(DETECTION_SHAPES)
        if cfg.model.roi_head.get('mask_head'):
            cfg.model.roi_head.mask_head.num_classes = len(DETECTION_SHAPES)
    for key in (
        'val_dataloader',
        'val_cfg',
        'val_evaluator',
        'test_dataloader',
        'test_cfg',
        'test_evaluator',
    ):
        cfg[key] = None
    cfg.train_cfg = dict(
        type=cfg.train_cfg.type,
        **(dict(max_iters=10**6) if 'max_iters' in cfg.train_cfg else dict(max_epochs=10**6)),
    )
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=10**6)
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=10**6)
    cfg.default_hooks.pop('arm_guard', None)  # no ImageNet checkpoint to check here
    cfg.model.get('backbone', {}).pop('init_cfg', None)
    cfg.work_dir = work_dir
    cfg.log_level = 'WARNING'
    return cfg


class Bench:
    """One config's Runner, set up as ``Runner.train`` does, stepped one batch at a time."""

    def __init__(self, name: str, cfg: Config) -> None:
        self.name = name
        self.runner = Runner.from_cfg(cfg)
        self.loop = start_training(self.runner)
        self.batches = iter(self.loop.dataloader)
        dataset = self.loop.dataloader.dataset
        self.dataset = dict(
            ann_file=getattr(dataset, 'ann_file', None),
            images=len(dataset),
            classes=len(dataset.metainfo['classes']),
        )
        self.times: List[float] = []
        self.data_times: List[float] = []
        self.images = 0
        self.gflop = 0.0  # of one iteration, counted after the timed ones

    def step(self, record: bool) -> float:
        """Load one batch and train on it; the seconds it took."""
        start = time.perf_counter()
        try:
            batch = next(self.batches)
        except StopIteration:  # epoch-based loaders end; start the next epoch
            self.batches = iter(self.loop.dataloader)
            batch = next(self.batches)
        loaded = time.perf_counter()
        if isinstance(self.loop, IterBasedTrainLoop):
            self.loop.run_iter(batch)
        else:
            self.loop.run_iter(len(self.times), batch)
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        end = time.perf_counter()
        if record:
            self.times.append(end - start)
            self.data_times.append(loaded - start)
            self.images += len(batch['inputs'])
        return end - start


def peak_memory_mb(config: str, args: BenchOptions, dataset: Dict) -> float:
    """Peak memory of a separate process training this config alone (this module's
    entry point): CUDA's ``max_memory_allocated`` on a GPU, the peak RSS on CPU."""
    with tempfile.TemporaryDirectory() as tmp:
        result = osp.join(tmp, 'result.json')
        cmd = [sys.executable, '-m', ENTRY_POINT, config, '--result', result]
        cmd += ['--iters', str(max(3, args.iters // 5)), '--warmup', '1']
        cmd += ['--synthetic', str(args.synthetic), '--workers', str(args.workers)]
        cmd += ['--data-root', args.data_root] if args.data_root else []
        cmd += ['--shrink'] if args.shrink else []
        cmd += ['--fast'] if args.fast else []
        if args.cfg_options:
            cmd += ['--cfg-options'] + [f'{k}={v}' for k, v in args.cfg_options.items()]
        path = os.pathsep.join([PACKAGE_ROOT] + [p for p in [os.environ.get('PYTHONPATH')] if p])
        proc = subprocess.run(
            cmd, capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=path)
        )
        if proc.returncode != 0:
            raise RuntimeError(f'the memory run of {config} failed:\n{proc.stderr[-3000:]}')
        with open(result) as f:
            single = json.load(f)

    def same_set(read: Dict) -> tuple:  # the generated set lies in each process's tmp dir
        return osp.basename(read['ann_file'] or ''), read['images'], read['classes']

    if same_set(single['dataset']) != same_set(dataset):
        raise RuntimeError(f'the memory run of {config} read {single["dataset"]}, not {dataset}')
    return single['peak_mem_mb']


def time_configs(configs: Sequence[str], args: BenchOptions) -> Dict:
    """Time ``configs`` interleaved, one iteration each per round; the report that
    :func:`print_table` prints (and ``tools/benchmark_train.py --json`` writes)."""
    benches, rounds = _interleaved(configs, args)
    return summarize(configs, benches, rounds, args)


def _interleaved(configs: Sequence[str], args: BenchOptions) -> tuple:
    """Each config's Bench after the timed rounds, and the rounds' seconds per config."""
    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as tmp:
        data_root = args.data_root
        if data_root is None:
            data_root = osp.join(tmp, 'shapes')
            make_detection_set(data_root, args.synthetic, seed=0, split='train')
        benches = [
            Bench(display_name(c), prepare(c, args, data_root, osp.join(tmp, f'work{i}')))
            for i, c in enumerate(configs)
        ]
        rounds = []
        for i in range(args.warmup + args.iters):
            rounds.append([b.step(record=i >= args.warmup) for b in benches])
        for bench in benches:  # one more iteration each, while the data is still there
            bench.gflop = step_gflop(bench)
    return benches, rounds[args.warmup :]


def matmul_peak_gflops(size: int = 1024, repeats: int = 20) -> float:
    """What this process reaches on a large fp32 matmul where it trains (the GPU, or its
    CPU threads), in GFLOP/s, the best of ``repeats``: the ceiling a training step's
    FLOPs are measured against."""
    device = 'cuda' if torch.cuda.is_available() else 'cpu'
    a, b = (torch.randn(size, size, device=device) for _ in range(2))
    best = float('inf')
    for _ in range(repeats):
        start = time.perf_counter()
        torch.mm(a, b)
        if device == 'cuda':
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best / 1e9


def step_gflop(bench: Bench) -> float:
    """The FLOPs of one training iteration, forward and backward, as torch counts them
    (mmcv's own ops, such as RoIAlign and NMS, are not counted)."""
    with FlopCounterMode(display=False) as counter:
        bench.step(record=False)
    return counter.get_total_flops() / 1e9


def summarize(
    configs: Sequence[str], benches: List[Bench], rounds: List[List[float]], args: BenchOptions
) -> Dict:
    """Median s/iter, images/s, data share, the share of the matmul peak, peak memory
    and ratios per config."""
    peak = matmul_peak_gflops()
    device = (
        torch.cuda.get_device_name()
        if torch.cuda.is_available()
        else (f'CPU ({os.cpu_count()} cores, {torch.get_num_threads()} torch threads)')
    )
    rows = []
    for i, bench in enumerate(benches):
        median = statistics.median(bench.times)
        row = dict(
            config=bench.name,
            dataset=bench.dataset,
            s_per_iter=median,
            images_per_s=bench.images / sum(bench.times),
            data_share=sum(bench.data_times) / sum(bench.times),
            gflop_per_iter=bench.gflop,
        )
        row['peak_share'] = row['gflop_per_iter'] / median / peak
        row['peak_mem_mb'] = peak_memory_mb(configs[i], args, bench.dataset)
        if i:
            row['ratio_to_first'] = statistics.median(r[i] / r[0] for r in rounds)
        rows.append(row)
    return dict(
        device=device,
        iters=args.iters,
        warmup=args.warmup,
        shrink=args.shrink,
        torch=torch.__version__,
        matmul_peak_gflops=peak,
        rows=rows,
    )


def print_table(report: Dict) -> None:
    """The figures as a Markdown table, after the dataset each config read."""
    print(
        f'device: {report["device"]}; {report["iters"]} timed iterations after '
        f'{report["warmup"]} warm-up{"; shrunk models" if report["shrink"] else ""}'
    )
    for row in report['rows']:
        data = row['dataset']
        print(
            f'{row["config"]}: {data["images"]} images, {data["classes"]} classes, '
            f'{data["ann_file"]}'
        )
    print(f'matmul peak of these threads: {report["matmul_peak_gflops"]:.0f} GFLOP/s (fp32)')
    print(
        '| config | s/iter (median) | images/s | data share | GFLOP/iter | of matmul peak '
        '| peak mem (MB) | ratio |'
    )
    print('|---|---|---|---|---|---|---|---|')
    for row in report['rows']:
        ratio = f'{row["ratio_to_first"]:.3f}' if 'ratio_to_first' in row else '1 (ref)'
        print(
            f'| {row["config"]} | {row["s_per_iter"]:.3f} | {row["images_per_s"]:.2f} | '
            f'{row["data_share"]:.1%} | {row["gflop_per_iter"]:.2f} | {row["peak_share"]:.1%} '
            f'| {row["peak_mem_mb"]:.0f} | {ratio} |'
        )


def main() -> None:
    """The entry point: train one config alone, write its peak memory and dataset."""
    parser = argparse.ArgumentParser(description='Peak memory of one config, trained alone.')
    parser.add_argument('config')
    parser.add_argument('--result', required=True, help='write the JSON result here')
    add_options(parser)
    args = parser.parse_args()
    benches, _ = _interleaved([args.config], options_from(args))
    if torch.cuda.is_available():
        peak = torch.cuda.max_memory_allocated() / 2**20
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with open(args.result, 'w') as f:
        json.dump(dict(peak_mem_mb=peak, dataset=benches[0].dataset), f)


if __name__ == '__main__':
    main()
