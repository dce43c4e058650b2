"""Seeded random subsets of a COCO annotation file (the paper's 35k/10k/3.5k/1k sets),
and their file names. Reading and checking the files is :mod:`.coco_check`'s."""

import os.path as osp
import random
from collections import Counter
from typing import Dict


def subset_tag(num_images: int) -> str:
    """35000 -> '35k', 3500 -> '3-5k' (file-name safe), 123 -> '123'."""
    if num_images >= 1000 and num_images % 100 == 0:
        return f'{num_images / 1000:g}k'.replace('.', '-')
    return str(num_images)


def default_output(ann_file: str, num_images: int, seed: int) -> str:
    """The subset's file name beside ``ann_file``: ``<stem>_<tag>_seed<seed>.json``."""
    stem, ext = osp.splitext(ann_file)
    return f'{stem}_{subset_tag(num_images)}_seed{seed}{ext}'


def make_subset(coco: Dict, num_images: int, seed: int) -> Dict:
    """``num_images`` images drawn with ``random.Random(seed)``, their annotations, all
    categories."""
    if not 0 < num_images <= len(coco['images']):
        raise ValueError(
            f'asked for {num_images} images but the file has '
            f'{len(coco["images"])}: choose 1..{len(coco["images"])}.'
        )
    ids = sorted(im['id'] for im in coco['images'])
    chosen = set(random.Random(seed).sample(ids, num_images))
    subset = {k: v for k, v in coco.items() if k not in ('images', 'annotations')}
    subset['images'] = [im for im in coco['images'] if im['id'] in chosen]
    subset['annotations'] = [a for a in coco['annotations'] if a['image_id'] in chosen]
    return subset


def summary(coco: Dict) -> Dict:
    """Images, instances and instances per category of a COCO file."""
    names = {c['id']: c['name'] for c in coco['categories']}
    per_category = Counter(names[a['category_id']] for a in coco['annotations'])
    return dict(
        images=len(coco['images']),
        instances=len(coco['annotations']),
        per_category={n: per_category.get(n, 0) for n in names.values()},
    )
