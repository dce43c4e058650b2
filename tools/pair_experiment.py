"""Do I need ImageNet pre-training on my data? The paper's paired experiment, one command.

    python tools/pair_experiment.py --train-ann A.json --train-images DIR \
        --val-ann B.json --val-images DIR --out work_dirs/pair_mydata [--run]

Checks the dataset, says what the paper predicts for its size, writes a scratch and a
pretrained config (inheriting the pack's arms: with ``--recipe paper``, Keypoint R-CNN
with COCO keypoints, else Mask R-CNN with masks, else Faster R-CNN, GN/SyncBN; with
``--recipe lsj``, Detectron2's LSJ Mask R-CNN with SyncBN; R50/R101) with each arm's
schedule derived from the recipe's in images seen and its LR scaled to the total batch,
and prints how to train both. ``--run`` trains them one after the other and writes
``<out>/report/``: curves, results and samples tables, and summary.md.
"""

import argparse
import os
import os.path as osp
import subprocess

import mmrethink  # noqa: F401  registers the mmrethink:: scope
from mmrethink.analysis.runs import load_run
from mmrethink.datasets.coco_check import CocoDatasetError
from mmrethink.pairing import PairingError, inspect_dataset, regime, write_pair, write_report
from mmrethink.pairing.configs import launch_commands
from mmrethink.pairing.recipes import RECIPES
from mmrethink.pairing.report import training_lengths
from mmrethink.utils.arms import ARMS
from mmrethink.utils.package_files import train_command


def parse_args() -> argparse.Namespace:
    """The dataset, the model, the schedules and whether to run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--train-ann', required=True, help='COCO-format training annotations')
    parser.add_argument('--train-images', required=True, help='folder of the training images')
    parser.add_argument('--val-ann', required=True, help='COCO-format validation annotations')
    parser.add_argument('--val-images', required=True, help='folder of the validation images')
    parser.add_argument('--out', required=True, help='new folder for configs, runs and report')
    parser.add_argument('--name', help='dataset name in the config names (default: --out)')
    parser.add_argument('--classes', nargs='+', help='classes to use (default: all in the file)')
    parser.add_argument(
        '--recipe',
        default='paper',
        choices=sorted(RECIPES),
        help="paper: the paper's arms and schedules (configs/rethinking); lsj: Detectron2's "
        'LSJ recipe, Mask R-CNN with SyncBN, masks required (configs/modern)',
    )
    parser.add_argument('--depth', type=int, default=50, choices=[50, 101])
    parser.add_argument(
        '--norm', choices=['gn', 'syncbn'], help='default: gn (paper), syncbn (lsj, the only one)'
    )
    parser.add_argument('--gpus', type=int, default=8, help='processes of the real runs')
    parser.add_argument(
        '--batch-per-gpu', type=int, help="default: the recipe's, 2 (paper) or 8 (lsj)"
    )
    parser.add_argument(
        '--scratch-schedule',
        type=float,
        help="scratch length in images seen: the paper's x (default 3) or LSJ epochs (100)",
    )
    parser.add_argument(
        '--pretrained-schedule',
        type=float,
        help="pretrained length in images seen: the paper's x (default 1) or LSJ epochs (25)",
    )
    parser.add_argument(
        '--base',
        help="config to inherit instead of the pack's arm, with "
        "{arm} for scratch/pretrained (e.g. the demo's mini model, or the VGG-16 arms: "
        'mmrethink::rethinking/faster-rcnn_vgg16-{arm}_ms-9x_coco.py)',
    )
    parser.add_argument(
        '--checkpoint',
        help="the pretrained arm's backbone weights instead of the ImageNet model (also "
        "where the base loads that model elsewhere: the VGG arms' fc6/fc7)",
    )
    parser.add_argument('--checkpoint-prefix', help="e.g. backbone. for a classifier's file")
    parser.add_argument(
        '--until-converged',
        action='store_true',
        help="each arm's schedule is a cap (default: 9x, or 400 ep with --recipe lsj): its "
        'full-LR stage ends once the convergence rule holds, then its tail; the report says '
        'how long each arm needed',
    )
    parser.add_argument('--run', action='store_true', help='train both arms here, then report')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        default=[],
        help='key=value options passed to both training runs (--run)',
    )
    return parser.parse_args()


def train(config: str, work_dir: str, gpus: int, options: list) -> None:
    """One arm with the pack's own launcher; stops the pair if it fails."""
    cmd = train_command(config, work_dir, gpus) + (['--cfg-options', *options] if options else [])
    print(' '.join(cmd), flush=True)
    if subprocess.run(cmd).returncode != 0:
        raise SystemExit(f'training {config} failed; its log is in {work_dir}.')


def main() -> None:
    """Check, predict, write, print the commands; with --run, train and report."""
    args = parse_args()
    out = osp.abspath(args.out)
    batch_per_gpu = args.batch_per_gpu or RECIPES[args.recipe].batch_per_gpu
    lengths = dict(scratch=args.scratch_schedule, pretrained=args.pretrained_schedule)
    try:
        summary = inspect_dataset(
            osp.abspath(args.train_ann),
            osp.abspath(args.train_images),
            osp.abspath(args.val_ann),
            osp.abspath(args.val_images),
            args.classes,
        )
        configs = write_pair(
            summary,
            osp.join(out, 'configs'),
            args.name or osp.basename(out),
            args.depth,
            args.norm,
            args.gpus,
            batch_per_gpu,
            lengths={arm: length for arm, length in lengths.items() if length is not None},
            base=args.base,
            checkpoint=args.checkpoint,
            checkpoint_prefix=args.checkpoint_prefix,
            recipe=args.recipe,
            until_converged=args.until_converged,
        )
    except (CocoDatasetError, PairingError) as e:
        raise SystemExit(f'pair_experiment: {e}') from None
    print(f'What the paper predicts: {regime(summary.num_train_images)}')
    for warning in summary.warnings:
        print(f'Warning: {warning}')
    for arm in ARMS:
        print(f'{arm}: {configs.paths[arm]}\n  {configs.schedules[arm].derivation}')
    print(f'LR (both arms): {configs.lr_note}')
    print(
        'Train both arms (then python tools/plot_curves.py and results_table.py on the '
        'work dirs), or rerun with --run:'
    )
    for line in launch_commands(configs, out, args.gpus):
        print(f'  {line}')
    if not args.run:
        return
    work_dirs = {arm: osp.join(out, 'work_dirs', arm) for arm in ARMS}
    for arm, work_dir in work_dirs.items():
        train(configs.paths[arm], work_dir, args.gpus, args.cfg_options)
    runs = {arm: load_run(work_dir, arm) for arm, work_dir in work_dirs.items()}
    report = osp.join(out, 'report')
    os.makedirs(report, exist_ok=True)
    preamble = f'{regime(summary.num_train_images)}\n\n'
    if args.until_converged:
        lengths = '\n'.join(training_lengths(work_dirs))
        preamble += f'## How long each arm trained (--until-converged)\n\n{lengths}\n\n'
    written = write_report(
        {args.name or osp.basename(out): runs},
        report,
        title=f'Scratch or pre-trained on {args.name or osp.basename(out)}',
        preamble=preamble,
    )
    print(open(osp.join(report, 'summary.md')).read())
    print('Report:', *written, sep='\n  ')


if __name__ == '__main__':
    main()
