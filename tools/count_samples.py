"""Images, instances and pixels each arm sees: the paper's Figure 1 from real configs.

    python tools/count_samples.py \
        configs/rethinking/mask-rcnn_r50-pretrained_fpn_gn-all_2x_coco.py \
        configs/rethinking/mask-rcnn_r50-scratch_fpn_gn-all_6x_coco.py \
        --ann-file data/coco/annotations/instances_train2017.json --out samples
prints a Markdown table and writes samples.png / samples.svg. A pretrained arm counts
ImageNet pre-training (1.28M images x 100 epochs, 224x224 crops) plus its schedule.
"""

import argparse
import os.path as osp
import sys

from mmengine.config import Config

import mmrethink  # noqa: F401  (mmrethink:: configs)
from mmrethink.analysis.accounting import arm_samples, plot_samples, samples_table


def main() -> None:
    """Print and draw the images, instances and pixels each config sees."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('configs', nargs='+')
    parser.add_argument(
        '--ann-file', required=True, help='the training annotation file (its statistics are used)'
    )
    parser.add_argument(
        '--total-batch', type=int, help="images per iteration (default: the configs' reference, 16)"
    )
    parser.add_argument('--out', default='samples', help='chart path without extension')
    args = parser.parse_args()
    try:
        arms = [
            arm_samples(
                Config.fromfile(c),
                osp.splitext(osp.basename(c))[0],
                args.ann_file,
                args.total_batch,
            )
            for c in args.configs
        ]
    except ValueError as e:  # a missing or unreadable --ann-file, or no annotated image
        sys.exit(str(e))
    print(samples_table(arms))
    print('wrote ' + ' and '.join(plot_samples(arms, args.out)))


if __name__ == '__main__':
    main()
