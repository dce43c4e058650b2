"""Final metrics of work dirs as a Markdown table beside the published numbers.

    python tools/results_table.py work_dirs/* [--source paper|mmdet|detectron2]
Runs are matched to reference_results.yml by config name; paste the table into a
configs README (the measured columns say what was run).
"""

import argparse
import sys

from mmrethink.analysis.results import results_table
from mmrethink.analysis.runs import load_run


def main() -> None:
    """Print the final metrics of work dirs beside a published source."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('runs', nargs='+', help='work dirs or their convergence.jsonl')
    parser.add_argument('--source', default='paper', choices=['paper', 'mmdet', 'detectron2'])
    args = parser.parse_args()
    try:
        runs = [load_run(path) for path in args.runs]
    except FileNotFoundError as e:
        sys.exit(str(e))
    print(results_table(runs, source=args.source))


if __name__ == '__main__':
    main()
