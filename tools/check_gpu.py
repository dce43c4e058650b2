"""Does this machine run the pack? Every arm family, a few iterations, timed.

    python tools/check_gpu.py [--gpus N] [--iters 12] [--families F ...] [--json out.json]

On the GPUs it finds: each family (tools/check_gpu.py --list) at full width on 1 and on
N GPUs (all it finds by default), with and without --fast, on generated COCO- and
VOC-layout data, through tools/train.py and tools/dist_train.sh, plus an N-GPU run of
the SyncBN pretrained arm in which one GPU's images hold no object (SyncBN in the
heads with no RoIs on that GPU). The --fast runs, and the LSJ arms' runs, train in mixed
precision in the dtype the pack picks (fp16, mmrethink/launching/fast_path.py amp_dtype);
each run's dtype is read from the config it dumped and must be that one. Prints dtype,
s/iter, images/s and peak memory per run as a table (and JSON with --json); exits
non-zero if any run failed, naming its log.
Without a GPU it says so and runs its CPU mode: toy-width models, 128-px images,
2 processes on gloo, no --fast (the suite runs that mode). Runs are kept in --work-dir;
without it in a temporary dir, removed when every run passed.
"""

import argparse
import json
import os
import os.path as osp
import shutil
import sys
import tempfile

import torch

import mmrethink  # noqa: F401  registers the mmrethink:: scope
from mmrethink.diagnostics.acceptance import plan, run_check, table
from mmrethink.diagnostics.trial import FAMILIES, make_trial_data
from mmrethink.launching.fast_path import amp_dtype


def parse_args() -> argparse.Namespace:
    """Which families, how many processes, how long, where to write."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--gpus', type=int, help='processes of the N-GPU runs (default: all)')
    parser.add_argument('--iters', type=int, default=12, help='training iterations per run')
    parser.add_argument('--batch-per-gpu', type=int, default=2)
    parser.add_argument('--families', nargs='+', choices=sorted(FAMILIES), default=None)
    parser.add_argument('--list', action='store_true', help='list the families and exit')
    parser.add_argument('--work-dir', help='keep every run here (default: a temporary dir)')
    parser.add_argument('--json', help='write the rows to this file')
    return parser.parse_args()


def main() -> None:
    """Plan, run and report every check."""
    args = parse_args()
    if args.list:
        print('\n'.join(f'{name}: {FAMILIES[name]}' for name in sorted(FAMILIES)))
        return
    on_gpu = torch.cuda.is_available()
    if on_gpu and (args.gpus or 0) > torch.cuda.device_count():
        sys.exit(f'--gpus {args.gpus}: only {torch.cuda.device_count()} GPU(s) are visible here.')
    if on_gpu:
        processes = args.gpus or torch.cuda.device_count()
        print(f'{torch.cuda.device_count()} GPU(s): {torch.cuda.get_device_name()}; full width')
        print('mixed precision: {} ({})'.format(*amp_dtype()))
    else:
        processes = args.gpus or 2
        print(
            'No GPU found: CPU mode (toy-width models, 128-px images, gloo, no --fast). '
            'The figures say whether the pack runs here, not how fast a GPU would be.'
        )
    if on_gpu and processes == 1:
        print('One GPU: no N-GPU runs, and no run with a GPU that gets no RoIs.')
    checks = plan(sorted(args.families or FAMILIES), processes, on_gpu)
    out = args.work_dir or tempfile.mkdtemp(prefix='check_gpu_')
    data_root = make_trial_data(osp.join(out, 'data'))
    rows = []
    for i, check in enumerate(checks, 1):
        print(f'[{i}/{len(checks)}] {check.name}', flush=True)
        rows.append(run_check(check, data_root, out, args.iters, not on_gpu, args.batch_per_gpu))
    print(table(rows))
    if args.json:
        os.makedirs(osp.dirname(osp.abspath(args.json)), exist_ok=True)
        with open(args.json, 'w') as f:
            json.dump(dict(gpu=on_gpu, processes=processes, rows=rows), f, indent=2)
    failed = [row['name'] for row in rows if not row['ok']]
    if failed:
        sys.exit(f'{len(failed)} of {len(rows)} runs failed ({", ".join(failed)}); logs in {out}')
    if not args.work_dir:
        shutil.rmtree(out)


if __name__ == '__main__':
    main()
