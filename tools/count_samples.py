"""Images, instances and pixels each arm sees: the paper's Figure 1 from real configs.

    python tools/count_samples.py \
        configs/rethinking/mask-rcnn_r50-pretrained_fpn_gn-all_2x_coco.py \
        configs/rethinking/mask-rcnn_r50-scratch_fpn_gn-all_6x_coco.py \
        --ann-file data/coco/annotations/instances_train2017.json --out samples
prints a Markdown table and writes samples.png / samples.svg. A pretrained arm counts
ImageNet pre-training (1.28M images x 100 epochs, 224x224 crops) plus its schedule.
Pixels are counted per training image after the pipeline's resize and crop, before
batch padding (as ConvergenceHook counts the real batches): an LSJ arm's image counts
its expected crop of the image resized to 0.1-2.0 x 1024, not the padded 1024 x 1024,
and its instances are those whose box overlaps the crop. The lines after the table
say, per config, what was counted.
"""

import argparse
import os.path as osp
import sys

from mmengine.config import Config

import mmrethink  # noqa: F401  (mmrethink:: configs)
from mmrethink.analysis.accounting import (
    ArmSamples,
    arm_samples,
    plot_samples,
    samples_table,
    train_geometry,
)


def per_image_line(arm: ArmSamples, cfg: Config) -> str:
    """One arm's instances and pixels per training image, and what they count."""
    images = arm.fine_tuning['images']
    return (
        f'{arm.name}: {arm.fine_tuning["instances"] / images:.2f} instances and '
        f'{arm.fine_tuning["pixels"] / images:.4g} pixels per training image, after '
        f'{train_geometry(cfg).description}; before batch padding'
    )


def main() -> None:
    """Print and draw the images, instances and pixels each config sees."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('configs', nargs='+')
    parser.add_argument(
        '--ann-file', required=True, help='the training annotation file (its statistics are used)'
    )
    parser.add_argument(
        '--total-batch',
        type=int,
        help="images per iteration (default: each config's auto_scale_schedule."
        'base_batch_size: 16 for the paper arms, 64 for LSJ)',
    )
    parser.add_argument('--out', default='samples', help='chart path without extension')
    args = parser.parse_args()
    configs = [Config.fromfile(c) for c in args.configs]
    try:
        arms = [
            arm_samples(cfg, osp.splitext(osp.basename(c))[0], args.ann_file, args.total_batch)
            for c, cfg in zip(args.configs, configs)
        ]
    except ValueError as e:  # a missing or unreadable --ann-file, no annotated image, a crop
        sys.exit(str(e))
    print(samples_table(arms))
    print('\nPer training image:')
    for arm, cfg in zip(arms, configs):
        print(f'  {per_image_line(arm, cfg)}')
    print('wrote ' + ' and '.join(plot_samples(arms, args.out)))


if __name__ == '__main__':
    main()
