"""The CPU mini-reproduction of "Rethinking ImageNet Pre-training": it tests the paper's claims.

    python tools/demo.py           # default: about 7.5 minutes on 2 CPU cores
    python tools/demo.py --smoke   # about 40 seconds: what the tests run

1. data: 60 validation images on disk and the classification set (the demo's
   "ImageNet", another distribution); training images are rendered when read
   (SyntheticShapesStream), so plentiful data costs no disk and no generation time;
2. pre-trains the mini backbone on the classification set (BackboneClassifier);
3. the plentiful pair: the scratch and the pretrained arm side by side, one thread each,
   on a stream as long as the schedule (every training image is new);
4. the scarce pair: the same two arms on the first 64 images of that stream;
5. the figure (four curves per panel), the results and samples tables, and summary.md,
   which answers the paper's three questions with the numbers of this run.
The scale (configs/demo/README.md) was fixed by compute and the plateau rule before any
result was seen. Every run goes into a new folder (demo_output/<time>/ by default);
nothing is overwritten.
"""

import argparse
import os
import os.path as osp
import sys
import time
from typing import Dict, List, Optional

from mmengine.config import Config

from mmrethink.analysis.accounting import measured_samples, plot_samples, samples_table
from mmrethink.analysis.curves import plot_curves
from mmrethink.analysis.findings import (
    PAIRS,
    TOLERANCE,
    findings,
    plateau,
    plot_findings,
    rise_before_drops,
)
from mmrethink.analysis.results import results_table
from mmrethink.analysis.runs import Run, load_run
from mmrethink.datasets import make_classification_set, make_detection_set
from mmrethink.launching.parallel_runs import Job, JobFailed, cores, run_jobs
from mmrethink.utils.arms import ARMS

HERE = osp.dirname(osp.abspath(__file__))
CONFIGS = osp.join(osp.dirname(HERE), 'configs', 'demo')
DETECTOR = 'mask-rcnn_r18-mini-{arm}_fpn_gn-all_shapes.py'
CLASSIFIER = 'classifier_r18-mini_shapes-cls.py'
TRAIN_SEED, VAL_SEED = 0, 1  # two sets of the generator: training never sees a val image
SCALES = dict(
    # scarce: 64 images, 3% of the 2160 the plentiful arms see, as the paper's 3.5k
    # images are 3% of COCO's 118k (Sec. 5, where scratch fell short: 9.3 vs 16.0 AP).
    full=dict(val=60, cls_train=2000, cls_val=400, scarce=64),
    smoke=dict(val=8, cls_train=64, cls_val=32, scarce=8),
)
# Smoke: a 12-iteration 1x (drops at 2/3 and 8/9), evaluated twice; 12 iterations score
# nothing above 0.05, so every detection is kept.
SMOKE_ITERS = 12
SMOKE_SCHEDULE = (
    f'train_cfg = dict(max_iters={SMOKE_ITERS}, val_interval=6)\n'
    'param_scheduler = dict(milestones=[8, 11], warmup_iters=2)\n'
)
SMOKE_PRETRAIN_ITERS = 8
SMOKE_PRETRAIN = [
    f'train_cfg.max_iters={SMOKE_PRETRAIN_ITERS}',
    f'train_cfg.val_interval={SMOKE_PRETRAIN_ITERS}',
    'param_scheduler.milestones=[5,7]',
    'param_scheduler.warmup_iters=2',
    f'default_hooks.checkpoint.interval={SMOKE_PRETRAIN_ITERS}',
]
# Seconds per stage on the 2-core machine (measured 2026-11-29), refined as stages run.
PLANS = dict(
    full=dict(data=5, pretrain=55, plentiful=215, scarce=215, report=15),
    smoke=dict(data=2, pretrain=12, plentiful=25, scarce=25, report=12),
)


def say(message: str) -> None:
    """Print a progress line at once."""
    print(message, flush=True)


class DemoClock:
    """An ETA for the whole demo: the current stage projected from its progress, the
    stages to come from their planned seconds scaled by how the done ones compared."""

    def __init__(self, plan: Dict[str, float]) -> None:
        self.plan = plan
        self.taken: Dict[str, float] = {}
        self.current, self.started = '', time.time()

    def begin(self, stage: str) -> None:
        """Start timing ``stage``."""
        self.current, self.started = stage, time.time()

    def end(self) -> None:
        """Record the current stage's seconds."""
        self.taken[self.current] = time.time() - self.started

    def remaining(self, fraction: float) -> float:
        """Seconds left in the demo when the current stage is ``fraction`` done."""
        spent = time.time() - self.started
        planned = self.plan[self.current]
        projected = spent / fraction if fraction >= 0.2 else max(planned, spent)
        done_plan = sum(self.plan[s] for s in self.taken) + planned
        pace = (sum(self.taken.values()) + projected) / done_plan
        later = [s for s in self.plan if s not in self.taken and s != self.current]
        return max(projected - spent, 0) + pace * sum(self.plan[s] for s in later)

    def eta(self, fraction: float) -> str:
        """``demo ETA 4:05``."""
        minutes, seconds = divmod(int(self.remaining(fraction)), 60)
        return f'demo ETA {minutes}:{seconds:02d}'


def progress_line(name: str, record: Dict, max_iters: int) -> Optional[str]:
    """A line for an evaluation or every 60th iteration mmengine wrote to its scalars."""
    if 'coco/bbox_mAP' in record:
        return (
            f'  [{name}] iter {record["step"]}/{max_iters} eval: box AP '
            f'{100 * record["coco/bbox_mAP"]:.1f}  mask AP '
            f'{100 * record.get("coco/segm_mAP", 0):.1f}'
        )
    if 'cls/top1' in record:
        return f'  [{name}] eval: top-1 {record["cls/top1"]:.1f}%'
    if 'loss' in record and record['iter'] % 60 == 0:
        return (
            f'  [{name}] iter {record["iter"]}/{max_iters}  lr {record["lr"]:.4g}  '
            f'loss {record["loss"]:.4f}'
        )
    return None


def run_stage(clock: DemoClock, jobs: List[Job], threads: int) -> None:
    """Run ``jobs`` at once; print their progress with the demo's ETA; exit on failure."""
    done = {job.name: 0 for job in jobs}
    total = sum(job.max_iters for job in jobs)

    def on_record(job: Job, record: Dict) -> None:
        done[job.name] = max(done[job.name], record.get('iter', record.get('step', 0)))
        line = progress_line(job.name, record, job.max_iters)
        if line:
            say(f'{line}  | {clock.eta(sum(done.values()) / total)}')

    try:
        run_jobs(jobs, on_record, threads)
    except JobFailed as e:
        raise SystemExit(f'demo stopped: {e}') from None
    clock.end()


def train_job(name: str, config: str, work_dir: str, logs: str, max_iters: int) -> Job:
    """tools/train.py on ``config`` into ``work_dir``, logging to ``logs/<name>.log``."""
    cmd = [sys.executable, osp.join(HERE, 'train.py'), config, '--work-dir', work_dir]
    return Job(name, cmd, work_dir, osp.join(logs, f'{name}.log'), max_iters)


def write_arm(
    path: str, arm: str, pair: str, num_images: int, val_root: str, backbone: str, smoke: bool
) -> str:
    """One arm of one pair: the demo's config on a stream of ``num_images`` images."""
    base = DETECTOR.format(arm=arm)
    ann = osp.join(val_root, 'annotations', 'instances_val.json')
    text = (
        f"# The {arm} arm of the demo's {pair} pair (tools/demo.py): configs/demo/{base}\n"
        f'# on the first {num_images} images of the training stream.\n'
        f"_base_ = 'mmrethink::demo/{base}'\n\n"
        '# Images rendered in the training process: no loader process competing with the\n'
        '# other arm for the two cores (an image takes ~6 ms).\n'
        'train_dataloader = dict(\n'
        '    num_workers=0,\n'
        '    persistent_workers=False,\n'
        '    dataset=dict(\n'
        '        _delete_=True,\n'
        "        type='SyntheticShapesStream',\n"
        f'        num_images={num_images},\n'
        f'        seed={TRAIN_SEED},\n'
        '        pipeline={{_base_.stream_train_pipeline}},\n'
        '    ),\n'
        ')\n'
        f'val_dataloader = dict(dataset=dict(data_root={val_root + "/"!r}))\n'
        'test_dataloader = val_dataloader\n'
        f'val_evaluator = dict(ann_file={ann!r})\n'
        'test_evaluator = val_evaluator\n'
        f'randomness = dict(seed={TRAIN_SEED})\n'
    )
    model = []
    if arm == 'pretrained':
        model.append(f'backbone=dict(init_cfg=dict(checkpoint={backbone!r}))')
    if smoke:
        model.append('test_cfg=dict(rcnn=dict(score_thr=0.0))')
        text += SMOKE_SCHEDULE
    if model:
        text += f'model = dict({", ".join(model)})\n'
    with open(path, 'w') as f:
        f.write(text)
    return path


def write_summary(
    out: str, runs: Dict[str, Dict[str, Run]], scale: str, tables: Dict[str, str]
) -> List[str]:
    """summary.md (the three answers, each arm's plateau, the tables) and each table alone."""
    flat = [run for pair in PAIRS for run in runs[pair].values()]
    rules = []
    for run in flat:
        for metric, label in (('coco/bbox_mAP', 'box'), ('coco/segm_mAP', 'mask')):
            rise = rise_before_drops(run, metric)
            rules.append(
                f'- {run.name}, {label} AP: {plateau(run, metric).describe()}'
                + ('' if rise is None else f'; {rise:+.1f} over the last interval before the drops')
            )
    text = (
        '# Mini "Rethinking ImageNet Pre-training" on this machine (measured)\n\n'
        f"{scale}\n\n## The paper's three claims\n\n"
        + '\n'.join(findings(runs))
        + f'\n\n## Plateau rule: the last LR stage changes AP by less than {TOLERANCE:g} point'
        ' between its last two evaluations\n\n'
        + '\n'.join(rules)
        + f'\n\n## Results\n\n{tables["results"]}\n\n## Samples seen (Figure 1)\n\n'
        f'{tables["samples"]}\n'
    )
    paths = []
    for name, content in dict(tables, summary=text).items():
        paths.append(osp.join(out, f'{name}.md'))
        with open(paths[-1], 'w') as f:
            f.write(content.rstrip('\n') + '\n')
    return paths


def main() -> None:
    """Data, pre-training, two pairs of arms side by side, figure and summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--out', help='output folder (default: demo_output/<time>)')
    parser.add_argument(
        '--smoke', action='store_true', help='tiny data and 12-iteration arms (tests)'
    )
    args = parser.parse_args()
    mode = 'smoke' if args.smoke else 'full'
    sizes, clock = SCALES[mode], DemoClock(PLANS[mode])
    out = osp.abspath(args.out or osp.join('demo_output', time.strftime('%Y%m%d_%H%M%S')))
    if osp.exists(out) and os.listdir(out):
        raise SystemExit(f'{out} is not empty; pass another --out (nothing is overwritten).')
    data, logs, configs = (osp.join(out, d) for d in ('data', 'logs', 'configs'))
    for folder in (logs, configs):
        os.makedirs(folder)
    start = time.time()

    clock.begin('data')
    say(f'[1/5] data -> {data}  | {clock.eta(0)}')
    val_root = osp.join(data, 'shapes')
    make_detection_set(val_root, sizes['val'], VAL_SEED, 'val')
    cls_root = osp.join(data, 'shapes_cls')
    make_classification_set(osp.join(cls_root, 'train'), sizes['cls_train'], seed=2)
    make_classification_set(osp.join(cls_root, 'val'), sizes['cls_val'], seed=3)
    # Lengths and batches as the configs set them (the smoke run shortens them).
    base = Config.fromfile(osp.join(CONFIGS, DETECTOR.format(arm='scratch')))
    max_iters, batch = base.train_cfg.max_iters, base.train_dataloader.batch_size
    classifier = Config.fromfile(osp.join(CONFIGS, CLASSIFIER))
    iters, cls_batch = classifier.train_cfg.max_iters, classifier.train_dataloader.batch_size
    pretrain_options = [
        f'train_dataloader.dataset.data_root={cls_root}/train',
        f'val_dataloader.dataset.data_root={cls_root}/val',
        f'test_dataloader.dataset.data_root={cls_root}/val',
        f'randomness.seed={TRAIN_SEED}',
    ]
    if args.smoke:
        max_iters, iters = SMOKE_ITERS, SMOKE_PRETRAIN_ITERS
        pretrain_options += SMOKE_PRETRAIN
    plentiful = max_iters * batch  # every image the plentiful arms see is new
    clock.end()

    clock.begin('pretrain')
    say(
        f'[2/5] pre-training the backbone on the classification set ({iters} iterations, '
        f'{cores()} threads)  | {clock.eta(0)}'
    )
    pretrain_dir = osp.join(out, 'work_dirs', 'pretrain')
    pretrain = train_job('pre-train', osp.join(CONFIGS, CLASSIFIER), pretrain_dir, logs, iters)
    pretrain.cmd += ['--cfg-options', *pretrain_options]
    run_stage(clock, [pretrain], cores())
    backbone = osp.join(pretrain_dir, f'iter_{iters}.pth')

    runs: Dict[str, Dict[str, Run]] = {}
    threads = max(1, cores() // len(ARMS))
    for step, pair, num_images in ((3, 'plentiful', plentiful), (4, 'scarce', sizes['scarce'])):
        clock.begin(pair)
        say(
            f'[{step}/5] {pair} pair: scratch and pretrained side by side, {threads} thread(s)'
            f' each; {max_iters} iterations at batch {batch} on {num_images} training images'
            f' ({max_iters * batch / num_images:.1f} epochs)  | {clock.eta(0)}'
        )
        jobs = []
        for arm in ARMS:
            name = f'{arm}_{pair}'
            config = write_arm(
                osp.join(configs, f'{DETECTOR.format(arm=arm)[:-3]}-{pair}.py'),
                arm,
                pair,
                num_images,
                val_root,
                backbone,
                args.smoke,
            )
            jobs.append(train_job(name, config, osp.join(out, 'work_dirs', name), logs, max_iters))
        run_stage(clock, jobs, threads)
        runs[pair] = {arm: load_run(job.work_dir, job.name) for arm, job in zip(ARMS, jobs)}

    clock.begin('report')
    say(f'[5/5] figure, tables, summary  | {clock.eta(0)}')
    flat = [run for pair in PAIRS for run in runs[pair].values()]
    written = plot_findings(runs, osp.join(out, 'curves'))
    written += plot_curves(flat, osp.join(out, 'curves_images'), x='images')
    pre_images = iters * cls_batch
    pre_training = dict(images=pre_images, instances=pre_images, pixels=pre_images * 64 * 64)
    arms = [measured_samples(run, pre_training) for run in flat]
    written += plot_samples(arms, osp.join(out, 'samples'))
    scale = (
        f'Scale: {max_iters} iterations at batch {batch} per arm (LR drops dashed in the '
        f'figure); plentiful pair: {plentiful} training images, each seen once; scarce pair: '
        f'the first {sizes["scarce"]} of them; {sizes["val"]} validation images from another '
        f'seed; pre-training: {iters} iterations at batch {cls_batch} on '
        f'{sizes["cls_train"]} classification images.'
    )
    tables = dict(results=results_table(flat), samples=samples_table(arms))
    written += write_summary(out, runs, scale, tables)
    clock.end()
    say('\n' + open(osp.join(out, 'summary.md')).read())
    stages = ', '.join(f'{stage} {seconds:.0f} s' for stage, seconds in clock.taken.items())
    say(f'Done in {time.time() - start:.0f} s ({stages}).')
    say(f'Output: {out}')
    for path in written + [configs, logs]:
        say(f'  {osp.relpath(path, out)}')


if __name__ == '__main__':
    main()
