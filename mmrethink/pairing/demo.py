"""The CPU mini-reproduction of "Rethinking ImageNet Pre-training" (tools/demo.py).

1. data: the validation images on disk and the classification set (the demo's
   "ImageNet", another distribution); training images are rendered when read
   (SyntheticShapesStream), so plentiful data costs no disk and no generation time;
2. pre-trains the mini backbone on the classification set (BackboneClassifier);
3. the plentiful pair: the scratch and the pretrained arm side by side, on a stream as
   long as the schedule (every training image is new);
4. the scarce pair: the same two arms on the first images of that stream;
5. the report of both pairs (pairing/report.py): the figure, the results and samples
   tables, and summary.md, which answers the paper's three claims with this run's
   numbers, or "undecided" for an arm that did not converge by the rule.
With four cores or more both pairs train at once. The scale (configs/demo/README.md)
was fixed by compute and by the convergence rule before any result was seen.
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
from .report import write_report

DEMO_CONFIGS = osp.join(CONFIGS, 'demo')
DETECTOR = 'mask-rcnn_r18-mini-{arm}_fpn_gn-all_shapes.py'
CLASSIFIER = 'classifier_r18-mini_shapes-cls.py'
TRAIN_SEED, VAL_SEED = 0, 1  # two sets of the generator: training never sees a val image


@dataclass(frozen=True)
class DemoScale:
    """One mode's sizes. A pair's schedule override replaces the configs' own."""

    val: int  # validation images
    cls_train: int  # classification images for pre-training
    cls_val: int
    scarce: int  # images of the scarce pair: the first of the plentiful stream
    pairs: Tuple[str, ...]  # which pairs run
    plan: Dict[str, float]  # planned seconds per stage, for the ETA (2 cores)
    claims: str  # what the run can answer, said in its summary
    schedules: Dict[str, Dict[str, dict]] = field(default_factory=dict)  # by pair
    pretrain: Dict[str, object] = field(default_factory=dict)  # classifier's --cfg-options
    model: Dict[str, dict] = field(default_factory=dict)


ITERS_PER_1X = 900  # the demo's 1x: COCO's 90k iterations / 100, at batch 4


def _schedule(multiple: float, val_interval: int, warmup_iters: int = 30) -> Dict[str, dict]:
    """The paper's Nx at the demo's 1x (the drops of engine/schedule_rules.py's rule)."""
    max_iters, milestones = PAPER_RULE.length_rule(multiple, ITERS_PER_1X)
    return dict(
        train_cfg=dict(max_iters=max_iters, val_interval=val_interval),
        param_scheduler=dict(milestones=list(milestones), warmup_iters=warmup_iters),
    )


# Why these sizes, and what they cost: configs/demo/README.md. The plentiful pair runs the
# configs' own 6x (1x = 900 iterations at batch 4).
DEFAULT_SCALE = DemoScale(
    val=100,
    cls_train=2000,
    cls_val=400,
    scarce=64,  # 0.3% of the 21600 the plentiful arms see
    pairs=('plentiful', 'scarce'),
    plan=dict(data=3, pretrain=30, plentiful=600, scarce=320, report=15),
    claims='all three claims',
    # 3x: 2700 iterations, drops at the last 2/3 and 2/9 of a 1x (2100, 2500): 64 images
    # are seen 169 times, and a longer schedule only overfits them. An evaluation every
    # 150, so the rule's window (1575-2100) has four.
    schedules=dict(scarce=_schedule(3, 150)),
)
SCALES = {
    'default': DEFAULT_SCALE,
    'quick': replace(
        DEFAULT_SCALE,
        pairs=('plentiful',),
        plan=dict(data=3, pretrain=30, plentiful=110, report=10),
        claims=(
            'claim 1 only (early convergence): its 1x is too short for the rule to judge '
            'either arm (two evaluations in its window), so the catch-up answer is '
            'undecided; `make demo` answers all three'
        ),
        # 1x: 900 iterations, drops at 2/3 and 8/9 (600, 800), an evaluation every 150.
        schedules=dict(plentiful=_schedule(1, 150)),
    ),
    'smoke': DemoScale(
        val=8,
        cls_train=64,
        cls_val=32,
        scarce=8,
        pairs=('plentiful', 'scarce'),
        plan=dict(data=2, pretrain=12, plentiful=25, scarce=25, report=5),
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
        **scale.schedules.get(pair, {}),
        **({'model': model} if model else {}),
    )
    comments = [
        f"The {arm} arm of the demo's {pair} pair (tools/demo.py): configs/demo/{base}",
        f'on the first {num_images} images of the training stream.',
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
        f'[2/5] pre-training the backbone on the classification set ({iters} iterations at '
        f'batch {batch}, {cores()} threads)  | {clock.eta(0)}'
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
    """Both arms of each pair side by side; with four cores or more, both pairs at once.
    ``base``: the scratch arm's config, whose batch, length and scene the pairs share."""
    batch = base.train_dataloader.batch_size
    lengths = {
        pair: scale.schedules.get(pair, {}).get('train_cfg', base.train_cfg)['max_iters']
        for pair in scale.pairs
    }
    # Every image the plentiful arms see is new; the scarce pair's are its first ones.
    sizes = dict(plentiful=lengths['plentiful'] * batch, scarce=scale.scarce)
    jobs: Dict[str, List[Job]] = {}
    for pair in scale.pairs:
        jobs[pair] = []
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
            jobs[pair].append(
                train_job(name, config, work_dir, osp.join(out, 'logs'), lengths[pair])
            )
    together = cores() >= 2 * len(ARMS)  # both pairs at once, arms side by side
    stages = [list(scale.pairs)] if together else [[pair] for pair in scale.pairs]
    threads = max(1, cores() // (len(ARMS) * len(stages[0])))
    for stage in stages:
        # Pairs trained at once take as long as the longest of them.
        clock.plan.update(
            {stage[0]: max(clock.plan[p] for p in stage), **{p: 0 for p in stage[1:]}}
        )
        clock.begin(stage[0])
        for pair in stage:
            say(
                f'[{3 + scale.pairs.index(pair)}/5] {pair} pair: scratch and pretrained side by '
                f'side, {threads} thread(s) each; {lengths[pair]} iterations at batch {batch} '
                f'on {sizes[pair]} training images '
                f'({lengths[pair] * batch / sizes[pair]:.1f} epochs)  | {clock.eta(0)}'
            )
        run_stage(clock, [job for pair in stage for job in jobs[pair]], threads)
        for pair in stage[1:]:
            clock.taken[pair] = 0.0  # trained within the first pair's stage
    return {
        pair: {arm: load_run(job.work_dir, job.name) for arm, job in zip(ARMS, jobs[pair])}
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
    say(f'[1/5] data -> {data}  | {clock.eta(0)}')
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
    say(f'[5/5] figure, tables, summary  | {clock.eta(0)}')
    preamble = (
        f'This run is sized to answer {scale.claims}. Pre-training: {pre_training["images"]:.0f} '
        f'classification images seen ({scale.cls_train} distinct); {scale.val} validation '
        'images from another seed than the training stream.\n\n'
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
