"""The CPU mini-reproduction of "Rethinking ImageNet Pre-training", end to end.

    python tools/demo.py                 # default: ~8.5 minutes on 2 CPU cores
    python tools/demo.py --schedule 6    # twice as long: watch scratch catch up
    python tools/demo.py --smoke         # a minute: what the tests run

1. writes a synthetic COCO-format instance segmentation set and a classification set
   from another distribution (the demo's ImageNet);
2. pre-trains the mini backbone on the classification set (BackboneClassifier);
3. trains the mini Mask R-CNN from scratch and from that backbone, with the pack's
   schedule rule, Detectron2Init, arm guard and convergence hook, evaluating with
   pycocotools; its two configs are written by the paired-experiment code that
   tools/pair_experiment.py runs on any dataset (mmrethink/pairing);
4. draws the curves, the results table and the sample accounting, and prints a summary.
Every run goes into a new folder (demo_output/<time>/ by default); nothing is overwritten.
"""

import argparse
import os
import os.path as osp
import subprocess
import sys
import time
from typing import Dict, List, Optional

from mmengine.config import Config

from mmrethink.analysis.runs import ScalarsReader, load_run
from mmrethink.datasets import make_classification_set, make_detection_set
from mmrethink.engine.hooks.arm_guard_hook import ARMS
from mmrethink.engine.schedules import DatasetSchedule, Schedule, paper_schedule
from mmrethink.pairing import inspect_dataset, write_pair, write_report

HERE = osp.dirname(osp.abspath(__file__))
CONFIGS = osp.join(osp.dirname(HERE), 'configs', 'demo')
DETECTOR = 'mask-rcnn_r18-mini-{arm}_fpn_gn-all_shapes.py'
CLASSIFIER = 'classifier_r18-mini_shapes-cls.py'
# The demo's 1x: 90 iterations, 1/1000 of COCO's 90k; the paper's rule scaled by the
# same 1/1000 (e.g. 3x: LR drops at the last 60 and 20 iterations).
DEMO_1X = 90
SIZES = dict(
    full=dict(
        train=400,
        val=60,
        cls_train=2000,
        cls_val=400,
        pretrain_iters=600,
        warmup=30,
        val_interval=30,
    ),  # 3 evaluations per demo 1x
    smoke=dict(
        train=16, val=8, cls_train=64, cls_val=32, pretrain_iters=8, warmup=2, val_interval=6
    ),
)


def say(message: str) -> None:
    """Print a progress line at once."""
    print(message, flush=True)


def progress_line(stage: str, record: Dict, max_iters: int) -> Optional[str]:
    """One line per training log record or evaluation mmengine wrote to its scalars."""
    if 'loss' in record:
        return (
            f'  [{stage}] iter {record["iter"]}/{max_iters}  lr {record["lr"]:.4g}  '
            f'loss {record["loss"]:.4f}'
        )
    if 'coco/bbox_mAP' in record:
        return (
            f'  [{stage}] eval: bbox AP {100 * record["coco/bbox_mAP"]:.1f}  mask AP '
            f'{100 * record.get("coco/segm_mAP", 0):.1f}'
        )
    if 'cls/top1' in record:
        return f'  [{stage}] eval: top-1 {record["cls/top1"]:.1f}%'
    return None


def run_tool(stage: str, args: List[str], work_dir: str, max_iters: int, log_path: str) -> None:
    """Run tools/train.py into ``log_path``; print progress from the scalars it writes."""
    cmd = [sys.executable, osp.join(HERE, 'train.py')] + args + ['--work-dir', work_dir]
    scalars = ScalarsReader(work_dir)
    with open(log_path, 'w') as log, subprocess.Popen(
        cmd, stdout=log, stderr=subprocess.STDOUT
    ) as proc:
        while True:
            finished = proc.poll() is not None
            for record in scalars.new_records():
                line = progress_line(stage, record, max_iters)
                if line:
                    say(line)
            if finished:
                break
            time.sleep(0.5)
    if proc.returncode != 0:
        raise SystemExit(f'{stage} failed (exit {proc.returncode}); see {log_path}')


def demo_schedule(schedule: Schedule, warmup: int, val_interval: int) -> DatasetSchedule:
    """The demo's own length (not the images-seen rule: 400 images would need 13x more)."""
    return DatasetSchedule(
        schedule.max_iters / DEMO_1X,
        schedule.max_iters,
        schedule.milestones,
        warmup,
        val_interval,
        f"the demo's rule: 1x = {DEMO_1X} iterations (COCO's 90k / 1000); "
        f'{schedule.max_iters} iterations, LR drops at {list(schedule.milestones)}, warm-up '
        f'{warmup}, evaluation every {val_interval}.',
    )


def main() -> None:
    """Data, pre-training, both arms, figures and summary, in a new output folder."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--out', help='output folder (default: demo_output/<time>)')
    parser.add_argument(
        '--schedule',
        type=float,
        default=3.0,
        help='length of both arms in demo "x" (1x = 90 iterations)',
    )
    parser.add_argument(
        '--smoke', action='store_true', help='tiny data and a 1x run of 12 iterations (tests)'
    )
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args()
    sizes = SIZES['smoke' if args.smoke else 'full']
    out = osp.abspath(args.out or osp.join('demo_output', time.strftime('%Y%m%d_%H%M%S')))
    if osp.exists(out) and os.listdir(out):
        raise SystemExit(f'{out} is not empty; pass another --out (nothing is overwritten).')
    data, logs = osp.join(out, 'data'), osp.join(out, 'logs')
    os.makedirs(logs, exist_ok=True)
    if args.smoke:
        schedule = paper_schedule(1, iters_per_1x=12)
    else:
        schedule = paper_schedule(args.schedule, DEMO_1X)
    val_interval = sizes['val_interval']
    start = time.time()

    say(f'[1/5] data -> {data}')
    make_detection_set(osp.join(data, 'shapes'), sizes['train'], args.seed, 'train')
    make_detection_set(osp.join(data, 'shapes'), sizes['val'], args.seed + 1, 'val')
    make_classification_set(
        osp.join(data, 'shapes_cls', 'train'), sizes['cls_train'], args.seed + 2
    )
    make_classification_set(osp.join(data, 'shapes_cls', 'val'), sizes['cls_val'], args.seed + 3)

    pretrain_dir = osp.join(out, 'work_dirs', 'pretrain')
    iters = sizes['pretrain_iters']
    say(f'[2/5] pre-training the backbone on the classification set ({iters} iterations)')
    cls_root = osp.join(data, 'shapes_cls')
    run_tool(
        'pre-train',
        [
            osp.join(CONFIGS, CLASSIFIER),
            '--cfg-options',
            f'train_dataloader.dataset.data_root={cls_root}/train',
            f'val_dataloader.dataset.data_root={cls_root}/val',
            f'test_dataloader.dataset.data_root={cls_root}/val',
            f'train_cfg.max_iters={iters}',
            f'train_cfg.val_interval={iters}',
            f'param_scheduler.milestones=[{iters * 2 // 3},{iters * 8 // 9}]',
            f'param_scheduler.warmup_iters={sizes["warmup"]}',
            f'default_hooks.checkpoint.interval={iters}',
            f'randomness.seed={args.seed}',
        ],
        pretrain_dir,
        iters,
        osp.join(logs, 'pretrain.log'),
    )
    backbone = osp.join(pretrain_dir, f'iter_{iters}.pth')

    shapes = osp.join(data, 'shapes')
    summary = inspect_dataset(
        osp.join(shapes, 'annotations', 'instances_train.json'),
        osp.join(shapes, 'train'),
        osp.join(shapes, 'annotations', 'instances_val.json'),
        osp.join(shapes, 'val'),
    )
    arm_schedule = demo_schedule(schedule, sizes['warmup'], val_interval)
    configs = write_pair(
        summary,
        osp.join(out, 'configs'),
        'demo',
        gpus=1,
        batch_per_gpu=None,  # the demo config's own
        schedules=dict(scratch=arm_schedule, pretrained=arm_schedule),
        base=f'mmrethink::demo/{DETECTOR}',
        checkpoint=backbone,
        checkpoint_prefix='backbone.',
    )
    runs = {}
    for step, arm in enumerate(ARMS, start=3):
        say(f'[{step}/5] Mask R-CNN {arm}: {arm_schedule.derivation}')
        options = [f'randomness.seed={args.seed}']
        if args.smoke:  # 12 iterations score nothing above 0.05: keep every detection
            options.append('model.test_cfg.rcnn.score_thr=0.0')
        work_dir = osp.join(out, 'work_dirs', arm)
        run_tool(
            arm,
            [configs.paths[arm], '--cfg-options', *options],
            work_dir,
            schedule.max_iters,
            osp.join(logs, f'{arm}.log'),
        )
        runs[arm] = load_run(work_dir, arm)

    say('[5/5] figures and tables')
    # Batches as the runs used them: the configs they dumped (already resolved, cheap to read).
    pre_images = (
        iters * Config.fromfile(osp.join(pretrain_dir, CLASSIFIER)).train_dataloader.batch_size
    )
    pre_training = dict(images=pre_images, instances=pre_images, pixels=pre_images * 64 * 64)
    written = write_report(
        runs,
        out,
        summary.train_ann,
        runs['scratch'].config.train_dataloader.batch_size,
        pre_training,
        title='Mini "Rethinking ImageNet Pre-training" on this machine',
    )
    say('\n' + open(osp.join(out, 'summary.md')).read())
    say(f'Done in {time.time() - start:.0f} s. Output: {out}')
    for path in written + [logs]:
        say(f'  {osp.relpath(path, out)}')


if __name__ == '__main__':
    main()
