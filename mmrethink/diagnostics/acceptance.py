"""Does this machine run the pack? Each arm family trained a few iterations, timed.

What ``tools/check_gpu.py`` runs: every family of :mod:`mmrethink.diagnostics.trial` on
generated COCO- and VOC-layout data, through the real launchers (``tools/train.py`` for
one process, ``tools/dist_train.sh`` for N), with and without ``--fast`` on GPUs, plus
an N-process run of each SyncBN pretrained arm (the paper's and LSJ's) in which one
process gets no ground truth (its mask head sees no RoIs). Each run's s/iter, images/s
and peak memory are read from the scalars mmengine logged, the dtype it trained in from
the config it dumped: every ``--fast`` run, and the LSJ arms' on GPUs, must have trained
in the dtype :func:`~mmrethink.launching.fast_path.amp_dtype` picks.
"""

import glob
import os.path as osp
import statistics
import subprocess
import time
from dataclasses import asdict, dataclass
from typing import Dict, List, Optional, Sequence

from mmengine.config import Config

from mmrethink.launching.fast_path import amp_dtype
from mmrethink.utils.package_files import train_command
from mmrethink.utils.scalars import ScalarsReader

from .trial import family_config_path, trial_config, write_trial_config

# A few iterations take seconds to a minute; a hang is reported, not waited out.
RUN_TIMEOUT_S = 600
# SyncBN in the heads: the arms where a process without RoIs matters.
EMPTY_RANK_FAMILIES = ('mask-syncbn-pretrained', 'lsj-pretrained')


@dataclass(frozen=True)
class Check:
    """One training run: a family, its process count, the fast path, the data."""

    family: str
    processes: int
    fast: bool = False
    empty_rank: bool = False

    @property
    def name(self) -> str:
        """A unique, readable name (also the run's folder)."""
        return (
            f'{self.family}_x{self.processes}'
            + ('_fast' if self.fast else '')
            + ('_empty-rank' if self.empty_rank else '')
        )


def plan(families: Sequence[str], processes: int, on_gpu: bool) -> List[Check]:
    """Every family on 1 and ``processes`` processes, with and without ``--fast`` on
    GPUs (it needs CUDA), and the empty-rank run where there are 2 or more processes."""
    counts = sorted({1, processes})
    checks = [
        Check(family, n, fast)
        for family in families
        for n in counts
        for fast in ((False, True) if on_gpu else (False,))
    ]
    if processes > 1:
        checks += [
            Check(f, processes, empty_rank=True) for f in EMPTY_RANK_FAMILIES if f in families
        ]
    return checks


def command(check: Check, config: str, work_dir: str) -> List[str]:
    """The launcher a user would call for this check."""
    return train_command(config, work_dir, check.processes) + (['--fast'] if check.fast else [])


def timing(work_dir: str, batch: int, processes: int) -> Dict[str, Optional[float]]:
    """Median s/iter after the first quarter of iterations, images/s, peak memory (MB,
    as mmengine logs it on CUDA; None on CPU)."""
    records = [r for r in ScalarsReader(work_dir).new_records() if 'loss' in r]
    steady = records[len(records) // 4 :] or records
    s_per_iter = statistics.median(r['time'] for r in steady)
    memory = [r['memory'] for r in records if 'memory' in r]
    return dict(
        iterations=len(records),
        s_per_iter=s_per_iter,
        images_per_s=batch * processes / s_per_iter,
        peak_mem_mb=max(memory) if memory else None,
    )


def trained_dtype(work_dir: str) -> str:
    """The dtype a run trained in, read from the config mmengine dumped in its work dir."""
    [dumped] = glob.glob(osp.join(work_dir, '*.py'))
    wrapper = Config.fromfile(dumped).optim_wrapper
    if wrapper.get('type') != 'AmpOptimWrapper':
        return 'float32'
    return str(wrapper.get('dtype') or 'float16')  # AmpOptimWrapper's default on CUDA


def expected_dtype(check: Check, cfg: Config) -> str:
    """float32, or the mixed-precision dtype for ``--fast`` and the configs that ask for
    it (``mixed_precision.enable``, the LSJ arms), where there is a GPU to run it."""
    mixed = check.fast or cfg.get('mixed_precision', {}).get('enable')
    dtype, _ = amp_dtype()  # None without a GPU: every run is fp32
    return (dtype if mixed else None) or 'float32'


def run_check(
    check: Check, data_root: str, out_dir: str, iters: int, shrink: bool, batch_size: int
) -> Dict:
    """Train ``check`` ``iters`` iterations (evaluating at the end); its figures, or
    its error and log when it failed."""
    folder = osp.join(out_dir, check.name)
    config = family_config_path(check.family)
    cfg = trial_config(
        config,
        data_root,
        iters=iters,
        checkpoint_interval=iters,
        shrink=shrink,
        batch_size=batch_size,
        num_workers=2 if check.fast else 0,
        short_side=128 if shrink else 800,
        checkpoint_dir=folder,
        empty_rank=check.empty_rank,
    )
    path = write_trial_config(cfg, config, osp.join(folder, 'config'))
    work_dir = osp.join(folder, 'work')
    log = osp.join(folder, 'train.log')
    start = time.perf_counter()
    with open(log, 'w') as f:
        try:
            code = subprocess.run(
                command(check, path, work_dir),
                stdout=f,
                stderr=subprocess.STDOUT,
                timeout=RUN_TIMEOUT_S,
            ).returncode
            error = f'exit {code}'
        except subprocess.TimeoutExpired:  # e.g. a collective waiting for a stuck rank
            code, error = None, f'no end after {RUN_TIMEOUT_S} s'
    row = dict(asdict(check), name=check.name, wall_s=time.perf_counter() - start, log=log)
    if code != 0:
        return dict(row, ok=False, error=f'{error}; see {log}')
    dtype, expected = trained_dtype(work_dir), expected_dtype(check, cfg)
    if dtype != expected:
        return dict(row, ok=False, dtype=dtype, error=f'trained in {dtype}, not {expected}')
    return dict(row, ok=True, dtype=dtype, **timing(work_dir, batch_size, check.processes))


def table(rows: Sequence[Dict]) -> str:
    """The rows as a Markdown table."""
    lines = [
        '| run | ok | dtype | s/iter (median) | images/s | peak mem (MB) | wall (s) |',
        '|---|---|---|---|---|---|---|',
    ]
    for row in rows:
        if row['ok']:
            memory = f'{row["peak_mem_mb"]:.0f}' if row['peak_mem_mb'] else 'n/a (CPU)'
            figures = f'{row["s_per_iter"]:.3f} | {row["images_per_s"]:.2f} | {memory}'
        else:
            figures = f'{row["error"]} | | '
        ok, dtype = 'yes' if row['ok'] else 'NO', row.get('dtype', '')
        lines.append(f'| {row["name"]} | {ok} | {dtype} | {figures} | {row["wall_s"]:.0f} |')
    return '\n'.join(lines)
