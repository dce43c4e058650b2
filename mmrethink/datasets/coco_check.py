"""A COCO annotation file and its images, read and checked once, before a run uses them.

Both entry points that take a user's COCO dataset call :func:`check_coco`: the checks
``tools/train.py`` runs before building a Runner (:mod:`mmrethink.launching.preflight`,
where the fix is a config setting) and ``tools/pair_experiment.py``'s dataset inspection
(:mod:`mmrethink.pairing.dataset`, where the fix is a command-line option). Each passes
how its user fixes classes and images; the problem is worded here, once, and raised as
:class:`CocoDatasetError`.
"""

import json
import os.path as osp
from typing import Dict, List, Optional, Sequence

from mmrethink.utils.refusal import Refusal


class CocoDatasetError(Refusal, ValueError):
    """A COCO annotation file or its images that cannot be used as given; the message
    names the problem and the fix."""


def load_coco(ann_file: str) -> Dict:
    """Read a COCO annotation file, failing with what is wrong with it."""
    if not osp.isfile(ann_file):
        raise CocoDatasetError(
            f'annotation file {ann_file} not found: check the path (data_root and '
            'ann_file in a config; tools/make_coco_subset.py writes the subset files).'
        )
    try:
        with open(ann_file) as f:
            coco = json.load(f)
    except json.JSONDecodeError as e:
        raise CocoDatasetError(
            f'annotation file {ann_file} is not valid JSON ({e}): re-export or re-download it.'
        ) from None
    missing = [k for k in ('images', 'annotations', 'categories') if k not in coco]
    if missing:
        raise CocoDatasetError(f'annotation file {ann_file} lacks the COCO keys {missing}.')
    return coco


def absent_images(coco: Dict, image_dir: str) -> List[str]:
    """File names the COCO file lists that ``image_dir`` does not hold."""
    return [
        im['file_name']
        for im in coco['images']
        if not osp.isfile(osp.join(image_dir, im['file_name']))
    ]


def check_coco(
    ann_file: str,
    image_dir: Optional[str],
    split: str,
    classes: Optional[Sequence[str]],
    fix_classes: str,
    fix_images: str,
) -> Dict:
    """The COCO file at ``ann_file``, checked: readable, with categories, naming every
    one of ``classes`` (None: no class list to check), its images all in ``image_dir``
    (None: images not checked, e.g. in an object store).

    Messages start with ``split``; ``fix_classes`` and ``fix_images`` say how the
    caller's user fixes a class list or an image folder.
    """
    try:
        coco = load_coco(ann_file)
    except CocoDatasetError as e:
        raise CocoDatasetError(f'{split}: {e}') from None
    names = [c['name'] for c in coco['categories']]
    if not names:
        raise CocoDatasetError(
            f'{split}: {ann_file} has no categories: a COCO file lists its '
            'classes as "categories": [{"id": 1, "name": ...}, ...]; add them.'
        )
    unknown = [c for c in classes or () if c not in names]
    if unknown:
        raise CocoDatasetError(
            f'{split}: {ann_file} has no categories {unknown[:5]}; {fix_classes} '
            f'(the file has {names[:8]}...).'
        )
    if image_dir is None:
        return coco
    if not osp.isdir(image_dir):
        raise CocoDatasetError(
            f'{split}: image folder {image_dir} does not exist; it should hold the '
            f'images {ann_file} lists: {fix_images}.'
        )
    absent = absent_images(coco, image_dir)
    if absent:
        raise CocoDatasetError(
            f'{split}: {len(absent)} images listed in {ann_file} are not in '
            f'{image_dir} (e.g. {absent[:3]}): {fix_images}.'
        )
    return coco
