"""Write a seeded random subset of N images of a COCO annotation file.

    python tools/make_coco_subset.py data/coco/annotations/instances_train2017.json \
        --num-images 10000 --seed 0
writes data/coco/annotations/instances_train2017_10k_seed0.json (the name the
configs/less_data configs read) and prints images, instances and per-category counts.
The same seed gives the same subset; every category is kept, even with no instance.
"""

import argparse
import json
import os.path as osp
import sys

from mmrethink.datasets.coco_check import load_coco
from mmrethink.datasets.coco_subset import default_output, make_subset, summary


def main() -> None:
    """Write a seeded random subset of a COCO annotation file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('ann_file', help='COCO annotation file to draw from')
    parser.add_argument('--num-images', type=int, required=True)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--out', help='output file (default: <ann_file>_<N>_seed<S>.json)')
    parser.add_argument('--force', action='store_true', help='overwrite an existing --out')
    args = parser.parse_args()
    out = args.out or default_output(args.ann_file, args.num_images, args.seed)
    if osp.exists(out) and not args.force:
        sys.exit(f'{out} exists; pass --force to overwrite it or --out for another name.')
    try:
        subset = make_subset(load_coco(args.ann_file), args.num_images, args.seed)
    except ValueError as e:  # CocoDatasetError, or N out of range
        sys.exit(str(e))
    with open(out, 'w') as f:
        json.dump(subset, f)
    stats = summary(subset)
    print(
        f'wrote {out}: {stats["images"]} images, {stats["instances"]} instances, '
        f'{len(stats["per_category"])} categories'
    )
    for name, count in stats['per_category'].items():
        print(f'  {name}: {count}')


if __name__ == '__main__':
    main()
