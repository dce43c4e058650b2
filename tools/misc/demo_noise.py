"""Evaluation noise and training noise of a demo arm, measured apart.

    python tools/misc/demo_noise.py --out noise/ [--iters 1800 --interval 150 --val 100]

Trains the demo's scratch arm (or ``--config``) on the plentiful pair's images at the
full LR and, every ``--interval`` iterations, scores its weights and their moving average
(the demo's) on two disjoint validation sets; prints each evaluation and, from
``--summarize-from``, one set's evaluation noise and the scatter between evaluations.
What it measures and why: mmrethink/diagnostics/noise.py; the figures measured:
configs/demo/README.md.
"""

import argparse
import os
import os.path as osp

from mmrethink.diagnostics.noise import NoiseOptions, measure, table
from mmrethink.utils.package_files import CONFIGS


def main() -> None:
    """Parse the options, train and score, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        '--config',
        default=osp.join(CONFIGS, 'demo', 'mask-rcnn_r18-mini-scratch_fpn_gn-all_shapes.py'),
        help="the arm to train (default: the demo's scratch arm)",
    )
    parser.add_argument('--out', required=True, help='a new folder for the run and its sets')
    parser.add_argument('--iters', type=int, default=1800)
    parser.add_argument('--interval', type=int, default=150)
    parser.add_argument('--val', type=int, default=100, help='images per validation set')
    parser.add_argument(
        '--images', type=int, default=640, help="training images (the demo's plentiful pair)"
    )
    parser.add_argument(
        '--summarize-from', type=int, help='first evaluation summarized (default: half-way)'
    )
    args = parser.parse_args()
    if osp.exists(args.out) and os.listdir(args.out):
        raise SystemExit(f'{args.out} is not empty; pass another --out (nothing is overwritten).')
    start = args.iters // 2 if args.summarize_from is None else args.summarize_from
    # Evaluations at multiples of --interval from `start` to --iters.
    summarized = (
        args.iters // args.interval - (start - 1) // args.interval if args.interval > 0 else 0
    )
    if summarized < 4:
        raise SystemExit(
            f'--interval {args.interval} evaluates {max(summarized, 0)} time(s) from iteration '
            f'{start} to {args.iters}; the summary needs at least 4 (a quadratic and its '
            'scatter): lower --interval or --summarize-from, or raise --iters.'
        )
    options = NoiseOptions(args.config, args.out, args.iters, args.interval, args.val, args.images)
    records = measure(options)
    print(table(records, start))


if __name__ == '__main__':
    main()
