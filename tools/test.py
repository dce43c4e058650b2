"""Evaluate a checkpoint: mmdet's tools/test.py, on CPU-only machines too."""

import argparse
import os.path as osp

from mmdet.utils import setup_cache_size_limit_of_dynamo

import mmrethink  # noqa: F401  registers modules and the mmrethink:: scope
from mmrethink.launching.launch import (
    add_launch_arguments,
    build_runner,
    finish_launch,
    load_config,
    parse_launch_args,
    prepare_launch,
    use_test_time_aug,
)
from mmrethink.utils.refusal import refusals_printed


def parse_args() -> argparse.Namespace:
    """mmdet's test flags."""
    parser = argparse.ArgumentParser(description='Test (and eval) a detector')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--out', type=str, help='dump predictions to a pickle file for offline evaluation'
    )
    parser.add_argument(
        '--tta',
        action='store_true',
        help="test-time augmentation: the config's tta_model and tta_pipeline",
    )
    add_launch_arguments(parser)
    return parse_launch_args(parser)


def main() -> None:
    """Evaluate a checkpoint."""
    args = parse_args()
    setup_cache_size_limit_of_dynamo()
    if not osp.isfile(args.checkpoint):
        raise SystemExit(f'checkpoint {args.checkpoint} not found.')
    if args.out is not None and not args.out.endswith(('.pkl', '.pickle')):
        raise SystemExit('--out must be a .pkl or .pickle file.')
    cfg = load_config(args)
    cfg.load_from = args.checkpoint
    if args.tta:
        use_test_time_aug(cfg)
    # Testing loads a finished detector: the arm guard is about starting training.
    cfg.default_hooks.pop('arm_guard', None)
    if args.out is not None:
        cfg.test_evaluator = [
            cfg.test_evaluator,
            dict(type='DumpDetResults', out_file_path=args.out),
        ]
    prepare_launch(cfg, args.launcher)
    build_runner(cfg).test()
    finish_launch()


if __name__ == '__main__':
    with refusals_printed('tools/test.py'):
        main()
