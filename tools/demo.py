"""The CPU mini-reproduction of "Rethinking ImageNet Pre-training": it tests the paper's claims.

    python tools/demo.py           # default: both pairs, each arm until converged (capped)
    python tools/demo.py --quick   # the plentiful pair, short: early convergence only
    python tools/demo.py --smoke   # about 30 seconds: what the tests run

What it does and why: mmrethink/pairing/demo.py and configs/demo/README.md. Every run
goes into a new folder (demo_output/<time>/ by default); nothing is overwritten.
"""

import argparse
import os.path as osp
import time

from mmrethink.pairing.demo import run_demo


def main() -> None:
    """Parse the mode and the output folder; run the demo."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--out', help='output folder (default: demo_output/<time>)')
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        '--quick', action='store_true', help='the plentiful pair, short: claim 1 only'
    )
    mode.add_argument('--smoke', action='store_true', help='tiny data and arms (tests)')
    args = parser.parse_args()
    out = args.out or osp.join('demo_output', time.strftime('%Y%m%d_%H%M%S'))
    run_demo(osp.abspath(out), 'smoke' if args.smoke else 'quick' if args.quick else 'default')


if __name__ == '__main__':
    main()
