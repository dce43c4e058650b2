"""Training throughput of one or more configs, interleaved in one process.

    python tools/benchmark_train.py CONFIG [CONFIG ...] [--shrink] [--iters 30]

Builds each config's Runner (model, real data pipeline, optimizer, every hook), then
runs warm-up iterations and N timed ones through the train loop's own ``run_iter``,
alternating configs iteration by iteration so a noisy machine slows all alike. Prints
median s/iter, images/s, the data-loading share, GFLOP per iteration and the share of
the matmul peak, the dataset read and peak memory (of a
separate process per config: CUDA max allocated on a GPU, peak RSS on CPU), and with two or more
configs the ratio to the first (median of per-round ratios). ``--json`` writes it all.

``--shrink`` (CPU machines): the same detector family at toy width and 256-px images.
Without COCO, ``--synthetic N`` trains on N generated shapes images (default 64).
The library: :mod:`mmrethink.diagnostics.benchmark`.
"""

import argparse
import json

from mmrethink.diagnostics.benchmark import add_options, options_from, print_table, time_configs


def main() -> None:
    """Time the configs, interleaved, and print (and optionally write) the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('configs', nargs='+')
    add_options(parser)
    parser.add_argument('--json', help='write the figures to this file')
    args = parser.parse_args()
    report = time_configs(args.configs, options_from(args))
    print_table(report)
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(report, f, indent=2)


if __name__ == '__main__':
    main()
