"""The CPU mini-reproduction of "Rethinking ImageNet Pre-training" (tools/demo.py).

1. data: the validation images on disk and the classification set (the demo's
   "ImageNet", another distribution); training images are rendered when read
   (SyntheticShapesStream), so they cost no disk and no generation time;
2. pre-trains the mini backbone on the classification set (BackboneClassifier);
3. the four arms: scratch and pretrained on the first 640 images of the stream (the
   plentiful pair) and on its first 64 (the scarce pair), ten times fewer as the
   paper's 1k COCO images against its 10k (Sec. 5). Each trains at the full LR until
   the convergence rule holds (UntilConvergedHook; the configured schedule is the cap),
   then the paper's tail. The arms queue for the cores, the plentiful pair first (its
   scratch arm is expected to train longest), so an arm that converges early hands its
   core to the next;
4. the report of both pairs (pairing/report.py): the figure, the results and samples
   tables, and summary.md, which answers the paper's three claims with this run's
   numbers, or "undecided" for an arm that reached its cap without converging.
The scale, the noise and the compute it was chosen from: configs/demo/README.md.
"""

import os
import os.path as osp
import time
from dataclasses import dataclass, field, replace
from typing import Dict, List, Tuple

from mmengine.config import Config

from mmrethink.analysis.runs import Run, load_run
from mmrethink.datasets import make_classification_set, make_detection_set
from mmrethink.engine.schedule_rules import PAPER_RULE
from mmrethink.launching.parallel_runs import Job, cores
from mmrethink.utils.arms import ARMS
from mmrethink.utils.package_files import CONFIGS

from .configs import BaseReference, arm_config_text
from .progress import DemoClock, run_stage, say, train_job
from .report import training_lengths, write_report

DEMO_CONFIGS = osp.join(CONFIGS, 'demo')
DETECTOR = 'mask-rcnn_r18-mini-{arm}_fpn_gn-all_shapes.py'
CLASSIFIER = 'classifier_r18-mini_shapes-cls.py'
TRAIN_SEED, VAL_SEED = 0, 1  # two sets of the generator: training never sees a val image
# The demo's arms are evaluated on a moving average of their weights (training itself is
# unchanged): over about 200 iterations, after following the weights closely in the first
# few hundred (YOLOX's ExpMomentumEMA), so full-LR noise stays out of the rule's trend,
# the first evaluations are not held back, and the last, 600 iterations after the drop,
# are of the tail's weights (95%). Why: configs/demo/README.md.
MOVING_AVERAGE = dict(type='EMAHook', ema_type='ExpMomentumEMA', momentum=0.005, gamma=300)


@dataclass(frozen=True)
class DemoScale:
    """One mode's sizes. A pair's schedule override replaces the configs' own cap."""

    val: int  # validation images
    cls_train: int  # classification images for pre-training
    cls_val: int
    plentiful: int  # training images of the plentiful pair: the first of the stream
    scarce: int  # of the scarce pair: the first of the plentiful pair's
    pairs: Tuple[str, ...]  # which pairs run
    plan: Dict[str, float]  # planned seconds per stage, for the ETA (2 cores)
    claims: str  # what the run can answer, said in its summary
    schedules: Dict[str, Dict[str, dict]] = field(default_factory=dict)  # by pair
    pretrain: Dict[str, object] = field(default_factory=dict)  # classifier's --cfg-options
    model: Dict[str, dict] = field(default_factory=dict)

    @property
    def steps(self) -> int:
        """The progress lines' steps: data, pre-training, a step per pair, the report."""
        return len(self.pairs) + 3


ITERS_PER_1X = 900  # the demo's 1x: COCO's 90k iterations / 100, at batch 4


def _schedule(multiple: float, val_interval: int, warmup_iters: int = 30) -> Dict[str, dict]:
    """The paper's Nx at the demo's 1x (the drops of engine/schedule_rules.py's rule):
    the cap of an arm trained until converged."""
    max_iters, milestones = PAPER_RULE.length_rule(multiple, ITERS_PER_1X)
    return dict(
        train_cfg=dict(max_iters=max_iters, val_interval=val_interval),
        param_scheduler=dict(milestones=list(milestones), warmup_iters=warmup_iters),
    )


# Why these sizes, and what they cost: configs/demo/README.md.
DEFAULT_SCALE = DemoScale(
    val=100,
    cls_train=2000,
    cls_val=400,
    # A finite set, as COCO and the paper's subsets: on an endless stream the arms kept
    # improving and never converged (configs/demo/README.md).
    plentiful=640,
    scarce=64,
    pairs=('plentiful', 'scarce'),
    plan=dict(data=3, pretrain=30, pairs=1110, report=2),
    claims='all three claims, if every arm converges within its cap',
    # Both pairs capped at the paper's 6x, where its GN scratch arm caught up (Table 1):
    # 5400 iterations, drops at the last 2/3 and 2/9 of a 1x (4800, 5200). At 3x the
    # plentiful scratch arm was still rising at its cap (configs/demo/README.md). An
    # evaluation every 150, so the rule's window holds nine at the cap. In the cap's
    # full-LR stage, 640 images are seen 30 times and 64 images 300 times.
    schedules={pair: _schedule(6, 150) for pair in ('plentiful', 'scarce')},
)
SCALES = {
    'default': DEFAULT_SCALE,
    'quick': replace(
        DEFAULT_SCALE,
        pairs=('plentiful',),
        plan=dict(data=3, pretrain=30, pairs=190, report=2),
        claims=(
            'claim 1 only (early convergence): its cap of 1x leaves two evaluations in the '
            "rule's window, too few to judge either arm, so the catch-up answer is "
            'undecided; `make demo` answers more'
        ),
        # 1x: 900 iterations, drops at 2/3 and 8/9 (600, 800), an evaluation every 150.
        schedules=dict(plentiful=_schedule(1, 150)),
    ),
    'smoke': DemoScale(
        val=8,
        cls_train=64,
        cls_val=32,
        plentiful=16,
        scarce=8,
        pairs=('plentiful', 'scarce'),
        plan=dict(data=2, pretrain=12, pairs=50, report=5),
        claims='nothing: its 12 iterations only check that every stage runs',
        # 12 iterations (1x / 75, drops at 2/3 and 8/9: 8, 11), evaluated twice; 12
        # iterations score nothing above 0.05, so every detection is kept.
        schedules={pair: _schedule(1 / 75, 6, 2) for pair in ('plentiful', 'scarce')},
        pretrain={
            'train_cfg.max_iters': 8,
            'train_cfg.val_interval': 8,
            'param_scheduler.milestones': [5, 7],
            'param_scheduler.warmup_iters': 2,
            'default_hooks.checkpoint.interval': 8,
        },
        model=dict(test_cfg=dict(rcnn=dict(score_thr=0.0))),
    ),
}


def _arm_config(
    path: str,
    arm: str,
    pair: str,
    num_images: int,
    scene: dict,
    val_root: str,
    backbone: str,
    scale: DemoScale,
) -> str:
    """One arm of one pair: the demo's config on the first ``num_images`` of the stream."""
    base = DETECTOR.format(arm=arm)
    model = dict(scale.model)
    if arm == 'pretrained':
        model['backbone'] = dict(init_cfg=dict(checkpoint=backbone))
    settings = dict(
        train_dataloader=dict(
            dataset=dict(
                _delete_=True,
                type='SyntheticShapesStream',
                num_images=num_images,
                seed=TRAIN_SEED,
                **scene,
                pipeline=BaseReference('{{_base_.stream_train_pipeline}}'),
            ),
            # Rendered in the training process: no loader competing for the cores.
            num_workers=0,
            persistent_workers=False,
        ),
        val_dataloader=dict(dataset=dict(data_root=val_root + '/')),
        val_evaluator=dict(ann_file=osp.join(val_root, 'annotations', 'instances_val.json')),
        randomness=dict(seed=TRAIN_SEED),
        # The full-LR stage lasts until the convergence rule holds; the schedule is the cap.
        default_hooks=dict(until_converged=dict(type='UntilConvergedHook')),
        custom_hooks=[MOVING_AVERAGE],
        **scale.schedules.get(pair, {}),
        **({'model': model} if model else {}),
    )
    comments = [
        f"The {arm} arm of the demo's {pair} pair (tools/demo.py): configs/demo/{base}",
        f'on the first {num_images} images of the training stream, trained until converged.',
    ]
    with open(path, 'w') as f:
        f.write(arm_config_text(f'mmrethink::demo/{base}', comments, settings))
    return path


def _pretrain(
    out: str, cls_root: str, scale: DemoScale, clock: DemoClock
) -> Tuple[str, Dict[str, float]]:
    """Train the classifier: its checkpoint (the pretrained arms' backbone) and what it saw."""
    options = {
        'train_dataloader.dataset.data_root': f'{cls_root}/train',
        'val_dataloader.dataset.data_root': f'{cls_root}/val',
        'test_dataloader.dataset.data_root': f'{cls_root}/val',
        'randomness.seed': TRAIN_SEED,
        **scale.pretrain,
    }
    classifier = Config.fromfile(osp.join(DEMO_CONFIGS, CLASSIFIER))
    classifier.merge_from_dict(options)
    iters, batch = classifier.train_cfg.max_iters, classifier.train_dataloader.batch_size
    say(
        f'[2/{scale.steps}] pre-training the backbone on the classification set ({iters} '
        f'iterations at batch {batch}, {cores()} threads)  | {clock.eta(0)}'
    )
    work_dir = osp.join(out, 'work_dirs', 'pretrain')
    job = train_job(
        'pre-train', osp.join(DEMO_CONFIGS, CLASSIFIER), work_dir, osp.join(out, 'logs'), iters
    )
    job.cmd += ['--cfg-options', *(f'{key}={value}' for key, value in options.items())]
    run_stage(clock, [job], cores())
    seen = iters * batch  # one centred shape per image, at 64 x 64
    return osp.join(work_dir, f'iter_{iters}.pth'), dict(
        images=seen, instances=seen, pixels=seen * 64 * 64
    )


def _train_pairs(
    out: str, base: Config, val_root: str, backbone: str, scale: DemoScale, clock: DemoClock
) -> Dict[str, Dict[str, Run]]:
    """Every arm of every pair, queued for the cores: one arm per core (two on 2 cores),
    the plentiful pair first, the next starting as soon as one ends. ``base``: the scratch
    arm's config, whose batch, scene and (unless the scale overrides it) schedule the
    pairs share."""
    batch = base.train_dataloader.batch_size
    schedules = {pair: base.copy() for pair in scale.pairs}
    for pair, schedule in schedules.items():
        schedule.merge_from_dict(scale.schedules.get(pair, {}))
    sizes = dict(plentiful=scale.plentiful, scarce=scale.scarce)
    jobs: List[Job] = []
    tails: Dict[str, int] = {}  # what each arm trains after its full-LR stage
    for pair in scale.pairs:  # in this order: plentiful scratch converges last
        for arm in ARMS:
            config = _arm_config(
                osp.join(out, 'configs', f'{DETECTOR.format(arm=arm)[:-3]}-{pair}.py'),
                arm,
                pair,
                sizes[pair],
                dict(base.scene),
                val_root,
                backbone,
                scale,
            )
            name = f'{arm}_{pair}'
            work_dir = osp.join(out, 'work_dirs', name)
            max_iters = schedules[pair].train_cfg['max_iters']
            jobs.append(train_job(name, config, work_dir, osp.join(out, 'logs'), max_iters))
            tails[name] = max_iters - schedules[pair].param_scheduler['milestones'][0]
    slots = min(len(jobs), cores())
    threads = max(1, cores() // slots)
    clock.begin('pairs')
    for number, pair in enumerate(scale.pairs, 3):
        say(
            f'[{number}/{scale.steps}] {pair} pair: scratch and pretrained on '
            f'{sizes[pair]} training images, at batch {batch}, until converged (the full-LR '
            f'stage at most {schedules[pair].param_scheduler["milestones"][0]} iterations, '
            f'the run {schedules[pair].train_cfg["max_iters"]})  | {clock.eta(0)}'
        )
    say(f'  {len(jobs)} arms, {slots} at a time, {threads} thread(s) each')
    run_stage(clock, jobs, threads, slots, tails)
    work_dirs = {job.name: job.work_dir for job in jobs}
    return {
        pair: {arm: load_run(work_dirs[f'{arm}_{pair}'], f'{arm}_{pair}') for arm in ARMS}
        for pair in scale.pairs
    }


def run_demo(out: str, mode: str = 'default') -> None:
    """Data, pre-training, the pairs, report; every file under ``out`` (a new folder)."""
    scale, clock = SCALES[mode], DemoClock(dict(SCALES[mode].plan))
    if osp.exists(out) and os.listdir(out):
        raise SystemExit(f'{out} is not empty; pass another --out (nothing is overwritten).')
    data, logs, configs = (osp.join(out, d) for d in ('data', 'logs', 'configs'))
    for folder in (logs, configs):
        os.makedirs(folder)
    start = time.time()

    clock.begin('data')
    say(f'[1/{scale.steps}] data -> {data}  | {clock.eta(0)}')
    val_root = osp.join(data, 'shapes')
    base = Config.fromfile(osp.join(DEMO_CONFIGS, DETECTOR.format(arm='scratch')))
    make_detection_set(val_root, scale.val, VAL_SEED, 'val', **base.scene)
    cls_root = osp.join(data, 'shapes_cls')
    make_classification_set(osp.join(cls_root, 'train'), scale.cls_train, seed=2)
    make_classification_set(osp.join(cls_root, 'val'), scale.cls_val, seed=3)
    clock.end()

    clock.begin('pretrain')
    backbone, pre_training = _pretrain(out, cls_root, scale, clock)
    pairs = _train_pairs(out, base, val_root, backbone, scale, clock)

    clock.begin('report')
    say(f'[{scale.steps}/{scale.steps}] figure, tables, summary  | {clock.eta(0)}')
    names = [f'{arm}_{pair}' for pair in pairs for arm in ARMS]
    lengths = training_lengths({name: osp.join(out, 'work_dirs', name) for name in names})
    preamble = (
        f'This run is sized to answer {scale.claims}. Pre-training: {pre_training["images"]:.0f} '
        f'classification images seen ({scale.cls_train} distinct); {scale.val} validation '
        'images from another seed than the training images.\n\n'
        '## How long each arm trained (until converged)\n\n' + '\n'.join(lengths) + '\n\n'
    )
    written = write_report(
        pairs,
        out,
        'Mini "Rethinking ImageNet Pre-training" on this machine',
        preamble,
        pre_training,
    )
    clock.end()
    say('\n' + open(osp.join(out, 'summary.md')).read())
    stages = ', '.join(f'{stage} {seconds:.0f} s' for stage, seconds in clock.taken.items())
    say(f'Done in {time.time() - start:.0f} s ({stages}).')
    say(f'Output: {out}')
    for path in written + [configs, logs]:
        say(f'  {osp.relpath(path, out)}')
