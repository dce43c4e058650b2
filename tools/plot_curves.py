"""Draw bbox and mask AP of two or more runs against iterations or images seen.

    python tools/plot_curves.py work_dirs/scratch work_dirs/pretrained \
        --x iter --out curves
writes curves.png and curves.svg, one line per run (named after its config unless
--names is given), LR drops dashed: the paper's Figures 2-5.
"""

import argparse
import sys

from mmrethink.analysis.curves import X_AXES, plot_curves
from mmrethink.analysis.runs import load_run


def main() -> None:
    """Draw AP curves of work dirs, against iterations or images seen."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('runs', nargs='+', help='work dirs or their convergence.jsonl')
    parser.add_argument('--names', nargs='+', help='line labels, one per run')
    parser.add_argument('--x', choices=list(X_AXES), default='iter')
    parser.add_argument('--out', default='curves', help='output path without extension')
    args = parser.parse_args()
    if args.names and len(args.names) != len(args.runs):
        sys.exit(f'--names has {len(args.names)} labels for {len(args.runs)} runs.')
    names = args.names or [None] * len(args.runs)
    try:
        runs = [load_run(path, name) for path, name in zip(args.runs, names)]
        paths = plot_curves(runs, args.out, x=args.x)
    except (FileNotFoundError, ValueError) as e:
        sys.exit(str(e))
    print('wrote ' + ' and '.join(paths))


if __name__ == '__main__':
    main()
