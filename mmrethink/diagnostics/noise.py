"""How noisy is one evaluation of the demo's arms? The library behind
``tools/misc/demo_noise.py``.

The convergence rule reads a trend from a handful of box AP evaluations at the full LR,
so two sources of noise decide how far a verdict can be trusted, and they are measured
apart here, on one training run of an arm on the demo's images (the plentiful pair's,
by default):

- **evaluation noise**: the same weights scored on two disjoint validation sets of the
  demo's size (sets A and B, drawn from two seeds); half their squared difference, over
  all evaluations, is one set's variance;
- **training noise**: the scatter of one set's evaluations around a smooth curve through
  them (a quadratic in the iteration), i.e. what moves from one evaluation to the next.

Both are measured for the trained weights and for their moving average (the demo's,
:data:`mmrethink.pairing.demo.MOVING_AVERAGE`, kept here instead of by the hook), so the
table shows what averaging the weights removes.
"""

import copy
import json
import os.path as osp
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.registry import MODELS
from mmengine.runner import Runner

from mmrethink.analysis.runs import BOX_AP, ap_points
from mmrethink.datasets import make_detection_set
from mmrethink.pairing.demo import MOVING_AVERAGE

# Validation seeds: the demo's (1) and one no demo set uses (0 trains; 2 and 3 are the
# classification sets).
SETS = dict(A=1, B=4)
KINDS = ('raw', 'ema')


@dataclass(frozen=True)
class NoiseOptions:
    """What to train and how often to score it."""

    config: str  # the demo's scratch arm, or another config on SyntheticShapesStream
    out: str  # work dir and validation sets
    iters: int
    interval: int  # iterations between evaluations
    val: int  # images per validation set
    images: int  # training images: the first of the stream


class ScoreBothSets(Hook):
    """Every ``interval`` iterations, score the weights and their moving average on
    validation sets A and B; each record goes to ``records`` and a JSON-lines file."""

    priority = 'LOW'

    def __init__(self, sets: Dict[str, Config], interval: int, ema: Dict, path: str) -> None:
        self.set_cfgs, self.interval, self.ema_cfg, self.path = sets, interval, ema, path
        self.records: List[Dict] = []
        self.ema: Optional[torch.nn.Module] = None  # built with the model, before training
        self.sets: Dict[str, Tuple] = {}  # name: (loader, evaluator)

    def before_train(self, runner: Runner) -> None:
        """The moving average, and a loader and evaluator per set."""
        self.ema = MODELS.build(self.ema_cfg, default_args=dict(model=runner.model))
        self.sets = {}
        for name, cfg in self.set_cfgs.items():
            evaluator = runner.build_evaluator(cfg.val_evaluator)
            evaluator.dataset_meta = runner.train_dataloader.dataset.metainfo
            self.sets[name] = (runner.build_dataloader(cfg.val_dataloader), evaluator)

    def after_train_iter(
        self,
        runner: Runner,
        batch_idx: int,
        data_batch: Optional[Dict] = None,
        outputs: Optional[Dict] = None,
    ) -> None:
        """Update the average; score both kinds of weights on both sets when due."""
        self.ema.update_parameters(runner.model)
        if (runner.iter + 1) % self.interval:
            return
        record = dict(iter=runner.iter + 1)
        for kind, model in zip(KINDS, (runner.model, self.ema.module)):
            model.eval()
            for name, (loader, evaluator) in self.sets.items():
                with torch.no_grad():
                    for data in loader:
                        evaluator.process(model.val_step(data), data)
                metrics = evaluator.evaluate(len(loader.dataset))
                record[f'{kind}_{name}'] = ap_points(metrics, BOX_AP)
            model.train()
        self.records.append(record)
        with open(self.path, 'a') as f:
            f.write(json.dumps(record) + '\n')


def measure(options: NoiseOptions) -> List[Dict]:
    """Train ``options.config`` for ``options.iters`` iterations at its own LR (no drop),
    scoring as :class:`ScoreBothSets` does; the records."""
    cfg = Config.fromfile(options.config)
    ema = {k: v for k, v in MOVING_AVERAGE.items() if k != 'type'}
    ema['type'] = ema.pop('ema_type')
    sets = {}
    for name, seed in SETS.items():
        root = osp.join(options.out, f'val_{name}')
        make_detection_set(root, options.val, seed, 'val', **cfg.get('scene', {}))
        sets[name] = copy.deepcopy(cfg)
        sets[name].val_dataloader.dataset.data_root = root + '/'
        sets[name].val_evaluator.update(
            ann_file=osp.join(root, 'annotations', 'instances_val.json'), metric=['bbox']
        )
    cfg.work_dir = osp.join(options.out, 'work_dir')
    cfg.val_dataloader, cfg.val_evaluator = sets['A'].val_dataloader, sets['A'].val_evaluator
    cfg.train_dataloader.update(num_workers=0, persistent_workers=False)
    cfg.train_dataloader.dataset = dict(
        type='SyntheticShapesStream',
        num_images=options.images,
        pipeline=cfg.stream_train_pipeline,
        **cfg.get('scene', {}),
    )
    cfg.train_cfg.update(max_iters=options.iters, val_interval=options.iters + 1)
    cfg.param_scheduler.milestones = [options.iters + 1, options.iters + 2]  # the full LR
    cfg.param_scheduler.warmup_iters = min(cfg.param_scheduler.warmup_iters, options.iters)
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=options.iters + 1)
    runner = Runner.from_cfg(cfg)
    probe = ScoreBothSets(sets, options.interval, ema, osp.join(options.out, 'noise.jsonl'))
    runner.register_hook(probe)
    runner.train()
    return probe.records


def summarize(records: List[Dict]) -> Dict[str, Dict[str, float]]:
    """Per kind of weights, in AP points: one set's evaluation noise (from A - B) and the
    evaluations' scatter around a quadratic through each set (training noise with what
    evaluation noise changes between checkpoints). Give it at least four records."""
    iters = np.array([r['iter'] for r in records], dtype=float)
    summary = {}
    for kind in KINDS:
        a, b = (np.array([r[f'{kind}_{s}'] for r in records]) for s in SETS)
        residuals = [y - np.polyval(np.polyfit(iters, y, 2), iters) for y in (a, b)]
        dof = 2 * max(len(iters) - 3, 1)
        summary[kind] = dict(
            evaluation=float(np.sqrt(np.mean((a - b) ** 2) / 2)),
            scatter=float(np.sqrt(sum(np.sum(r**2) for r in residuals) / dof)),
        )
    return summary


def table(records: List[Dict], summarized_from: int) -> str:
    """The records, and the summary of those from iteration ``summarized_from`` on (the
    end of the climb, where the rule reads), as Markdown."""
    lines = ['| iteration | ' + ' | '.join(f'{k} {s}' for k in KINDS for s in SETS) + ' |']
    lines.append('|---' * (1 + len(KINDS) * len(SETS)) + '|')
    for r in records:
        values = ' | '.join(f'{r[f"{k}_{s}"]:.1f}' for k in KINDS for s in SETS)
        lines.append(f'| {r["iter"]} | {values} |')
    late = [r for r in records if r['iter'] >= summarized_from]
    lines += [
        '',
        f'From iteration {summarized_from} ({len(late)} evaluations), AP points:',
        '',
        '| weights | evaluation noise (one set) | scatter between evaluations |',
        '|---|---|---|',
    ]
    for kind, noise in summarize(late).items():
        lines.append(f'| {kind} | {noise["evaluation"]:.2f} | {noise["scatter"]:.2f} |')
    return '\n'.join(lines)
