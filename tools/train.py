"""Train a detector: mmdet's tools/train.py, plus what mmrethink adds.

Adds to mmdet's flags: ``--auto-scale-schedule`` (the paper's schedule at another
total batch), ``--fast`` (the GPU fast path), input checks before anything is built,
CPU-only distributed runs (gloo), and ``--amp`` in fp16 with dynamic loss scaling
(``mmrethink/launching/fast_path.py`` ``amp_dtype`` says why not bf16).
"""

import argparse
from functools import partial

from mmengine.config import Config

import mmrethink  # noqa: F401  registers modules and the mmrethink:: scope
from mmrethink.engine.resume_world_size import check_resume_world_size
from mmrethink.launching.batch_scaling import scale_schedule_to_batch
from mmrethink.launching.fast_path import (
    amp_requested,
    enable_amp,
    enable_fast_path,
    refuse_bf16_with_roi_align,
)
from mmrethink.launching.launch import (
    add_launch_arguments,
    build_runner,
    finish_launch,
    load_config,
    on_rank_zero,
    parse_launch_args,
    prepare_launch,
    world_size,
)
from mmrethink.launching.preflight import explained_build_errors, preflight
from mmrethink.utils.refusal import refusals_printed


def parse_args() -> argparse.Namespace:
    """mmdet's train flags plus --auto-scale-schedule and --fast."""
    parser = argparse.ArgumentParser(description='Train a detector')
    parser.add_argument('config', help='train config file path')
    parser.add_argument(
        '--amp',
        action='store_true',
        default=False,
        help='mixed precision (fp16, dynamic loss scaling); on by default where the '
        'config sets mixed_precision.enable (the LSJ arms)',
    )
    parser.add_argument(
        '--fast',
        action='store_true',
        help='the GPU fast path: --amp, cudnn.benchmark, persistent pinned '
        'loader workers (mmrethink/launching/fast_path.py)',
    )
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help="MMEngine's linear LR scaling to the real total batch",
    )
    parser.add_argument(
        '--auto-scale-schedule',
        action='store_true',
        help='scale iterations, LR drops, warm-up, intervals by 16/B and the LR by B/16 '
        'for the real total batch B (same images seen as at batch 16)',
    )
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from this checkpoint, or without a path from the latest one in the work dir',
    )
    parser.add_argument(
        '--resume-other-world-size',
        action='store_true',
        help='resume on another number of processes than the checkpoint was written by, '
        'keeping its total batch (mmrethink/engine/resume_world_size.py); refused without',
    )
    add_launch_arguments(parser)
    return parse_launch_args(parser)


def build_config(args: argparse.Namespace) -> Config:
    """The config with the command line applied."""
    cfg = load_config(args)
    refuse_bf16_with_roi_align(cfg)  # a config's own AmpOptimWrapper too, not only --amp
    if args.fast:
        enable_fast_path(cfg)
    elif amp_requested(cfg, args.amp):
        enable_amp(cfg)
    if args.auto_scale_lr:
        cfg.auto_scale_lr.enable = True
    if args.resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif args.resume is not None:
        cfg.resume, cfg.load_from = True, args.resume
    return cfg


def main() -> None:
    """Set up the launch, check the input (once), build the Runner and train."""
    args = parse_args()
    cfg = build_config(args)
    prepare_launch(cfg, args.launcher)
    on_rank_zero(partial(preflight, cfg, args.config, resume=bool(cfg.get('resume'))))
    world = world_size(args.launcher)
    check_resume_world_size(cfg, cfg.work_dir, world, allow=args.resume_other_world_size)
    if args.auto_scale_schedule or cfg.get('auto_scale_schedule', {}).get('enable'):
        scale_schedule_to_batch(cfg, world)
    with explained_build_errors():
        runner = build_runner(cfg)
    runner.train()
    finish_launch()


if __name__ == '__main__':
    with refusals_printed('tools/train.py'):
        main()
