"""What the tests share: the checkout's paths, CLI runners and the demo config's options.

Subprocesses get PYTHONPATH=<checkout>, so tools, mim and dist scripts run the code
under test; `make test` also reinstalls the package that mim finds.
"""

import copy
import os
import os.path as osp
import signal
import subprocess
import sys
import time
from functools import lru_cache
from typing import Dict, List, Sequence

from mmengine.config import Config

import mmrethink  # noqa: F401
from mmrethink.utils.convergence_records import read_convergence
from mmrethink.utils.scalars import ScalarsReader

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
DIST_TRAIN = osp.join(REPO, 'tools', 'dist_train.sh')
DEMO = osp.join(REPO, 'configs', 'demo')
SCRATCH = osp.join(DEMO, 'mask-rcnn_r18-mini-scratch_fpn_gn-all_shapes.py')
PRETRAINED = osp.join(DEMO, 'mask-rcnn_r18-mini-pretrained_fpn_gn-all_shapes.py')


def checkout_env(**extra: str) -> Dict[str, str]:
    """The environment of a subprocess that runs this checkout's code."""
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join(
            [REPO] + [p for p in os.environ.get('PYTHONPATH', '').split(os.pathsep) if p]
        ),
    )
    # `python` in tools/*.sh is this interpreter (the venv's).
    env['PATH'] = osp.dirname(sys.executable) + os.pathsep + env.get('PATH', '')
    env.update(extra)
    return env


def installed_env(**extra: str) -> Dict[str, str]:
    """The environment of a user's shell: the installed package, not the checkout."""
    env = checkout_env(**extra)
    env.pop('PYTHONPATH')
    return env


def run(cmd: Sequence[str], check: bool = True, **kwargs) -> subprocess.CompletedProcess:
    """Run ``cmd`` in the checkout; with ``check``, fail with its output's tail."""
    proc = subprocess.run(
        list(cmd),
        cwd=kwargs.pop('cwd', REPO),
        env=kwargs.pop('env', checkout_env()),
        capture_output=True,
        text=True,
        **kwargs,
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f'{cmd} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-20000:]}'
        )
    return proc


def train_cmd(config: str, work_dir: str, options: List[str], *extra: str) -> List[str]:
    """``tools/train.py config --work-dir work_dir [extra] --cfg-options options``."""
    return [
        sys.executable,
        osp.join(REPO, 'tools', 'train.py'),
        config,
        '--work-dir',
        work_dir,
        *extra,
        '--cfg-options',
        *options,
    ]


def build_model(model_cfg: Dict, init: bool = False):
    """Build (and initialize) a model in mmdet's scope, as the Runner does."""
    from mmdet.registry import MODELS
    from mmengine.registry import DefaultScope

    with DefaultScope.overwrite_default_scope('mmdet'):
        model = MODELS.build(model_cfg)
        if init:
            model.init_weights()
    return model


def shapes_config_options(root: str) -> List[str]:
    """``--cfg-options`` pointing the demo configs' loaders and evaluators at ``root``."""
    root = root.rstrip('/') + '/'
    return [
        f'{split}_dataloader.dataset.data_root={root}' for split in ('train', 'val', 'test')
    ] + [
        f'{split}_evaluator.ann_file={root}annotations/instances_val.json'
        for split in ('val', 'test')
    ]


def metric_prefix(cfg: Config) -> str:
    """The prefix of the metrics the config's evaluator logs."""
    return 'pascal_voc' if cfg.val_evaluator['type'] == 'VOCMetric' else 'coco'


def mini_options(data_root: str, max_iters: int = 4, val_interval: int = 2) -> List[str]:
    """The demo config on ``data_root``, shortened to ``max_iters``."""
    return shapes_config_options(data_root) + [
        f'train_cfg.max_iters={max_iters}',
        f'train_cfg.val_interval={val_interval}',
        f'param_scheduler.milestones=[{max_iters // 2},{max_iters - 1}]',
        'param_scheduler.warmup_iters=2',
        f'default_hooks.checkpoint.interval={val_interval}',
        'default_hooks.checkpoint.save_best=None',
        'default_hooks.logger.interval=1',
        'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False',
        'val_dataloader.num_workers=0',
        'val_dataloader.persistent_workers=False',
        'test_dataloader.num_workers=0',
        'test_dataloader.persistent_workers=False',
    ]


def scalars(work_dir: str) -> List[Dict]:
    """The per-iteration training scalars mmengine logged, all sessions of a work dir,
    as the package reads them."""
    return [r for r in ScalarsReader(work_dir).new_records() if 'loss' in r]


@lru_cache(maxsize=None)
def _parsed(path: str) -> Config:
    return Config.fromfile(path)


def load_config(path: str) -> Config:
    """``Config.fromfile``, parsed once per test session; each call gets its own copy."""
    return copy.deepcopy(_parsed(path))


def convergence(work_dir: str) -> List[Dict]:
    """A work dir's evaluation records, as the package reads them (last per iteration)."""
    return list(read_convergence(osp.join(work_dir, 'convergence.jsonl')))


def checkpoint_iter(path: str) -> int:
    """The iteration of ``.../iter_N.pth``."""
    return int(osp.basename(path.strip())[len('iter_') : -len('.pth')])


def _marked_iter(marker: str) -> int:
    """The iteration ``last_checkpoint`` points at; -1 while it is missing or being
    written (mmengine truncates it before it writes the new path)."""
    try:
        with open(marker) as f:
            path = f.read().strip()
    except FileNotFoundError:
        return -1
    return checkpoint_iter(path) if path else -1


def process_tree(root: int) -> list:
    """``root`` and all its descendants (torchrun starts each worker in its own session,
    so a process group does not hold them)."""
    children = {}
    for entry in os.listdir('/proc'):
        if entry.isdigit():
            try:
                with open(f'/proc/{entry}/stat') as f:
                    ppid = int(f.read().rsplit(')', 1)[1].split()[1])
            except (FileNotFoundError, ProcessLookupError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo += children.get(pid, [])
    return tree


def kill_after_first_checkpoint(
    cmd: list,
    work_dir: str,
    timeout_s: float = 300,
    after_iter: int = 1,
    envs: Sequence[Dict[str, str]] = ({},),
) -> str:
    """Start ``cmd`` (once per entry of ``envs``, each adding to the checkout's
    environment: the nodes of a multi-node run); SIGKILL them and every process they
    started, at once, as soon as a checkpoint of iteration ``after_iter`` or later is
    complete (``last_checkpoint`` points at it), as a preemption kills a job; return
    that checkpoint. Their output goes to ``<work_dir>.log`` (``.log.<i>`` for more)."""
    marker = osp.join(work_dir, 'last_checkpoint')
    base = osp.join(osp.dirname(work_dir), osp.basename(work_dir) + '.log')
    logs = [open(base + (f'.{i}' if i else ''), 'w') for i in range(len(envs))]
    procs = [
        subprocess.Popen(
            cmd,
            cwd=REPO,
            env=checkout_env(**env),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        for env, log in zip(envs, logs)
    ]
    deadline = time.time() + timeout_s
    while (marked := _marked_iter(marker)) < after_iter:
        assert all(p.poll() is None for p in procs), f'{cmd} ended before the checkpoint: {base}'
        assert time.time() < deadline, f'no checkpoint after {timeout_s} s: {base}'
        time.sleep(0.05)
    for pid in [pid for proc in procs for pid in process_tree(proc.pid)]:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    for proc, log in zip(procs, logs):
        proc.wait()
        log.close()
    # The checkpoint seen, not the marker read again: a later save may be rewriting it.
    return osp.join(work_dir, f'iter_{marked}.pth')


def evaluated_iterations(train_cfg: Dict) -> List[int]:
    """The iterations after which mmengine's IterBasedTrainLoop evaluates: its condition
    replayed, with the intervals of its own ``calc_dynamic_intervals``."""
    import bisect

    from mmengine.runner.utils import calc_dynamic_intervals

    milestones, intervals = calc_dynamic_intervals(
        train_cfg['val_interval'], train_cfg.get('dynamic_intervals')
    )
    end, begin = train_cfg['max_iters'], train_cfg.get('val_begin', 1)
    evaluated = []
    for iteration in range(1, end + 1):
        interval = intervals[bisect.bisect(milestones, iteration + 1) - 1]
        if iteration >= begin and (iteration % interval == 0 or iteration == end):
            evaluated.append(iteration)
    return evaluated
