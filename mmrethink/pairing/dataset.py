"""A user's COCO-format dataset, checked before anything is written, and its regime."""

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence

from mmrethink.datasets.coco_check import check_coco
from mmrethink.datasets.coco_subset import summary
from mmrethink.utils.refusal import Refusal

SMALL_DATASET = 1000  # images; below this the paper's smallest subset (1k) is reached


class PairingError(Refusal, ValueError):
    """The dataset cannot be paired as asked (norm, recipe, depth, output folder); the message
    names the problem and the fix. (A COCO file's or its images' own problems raise
    :class:`~mmrethink.datasets.coco_check.CocoDatasetError`.)"""


@dataclass
class DatasetSummary:
    """What the paired configs need to know about a dataset, and what its check found."""

    train_ann: str
    train_images: str
    val_ann: str
    val_images: str
    classes: List[str]
    num_train_images: int
    num_train_instances: int
    has_masks: bool
    warnings: List[str] = field(default_factory=list)
    # The training file's keypoints (its categories' "keypoints" list), when its
    # annotations label any: the pair is then Keypoint R-CNN.
    keypoint_names: List[str] = field(default_factory=list)


def _check(ann_file: str, image_dir: str, split: str, classes: Optional[Sequence[str]]) -> Dict:
    """One split through the shared COCO checker, with this tool's fixes."""
    return check_coco(
        ann_file,
        image_dir,
        split,
        classes,
        fix_classes='pass --classes with names from the file, or leave --classes out to '
        "use the training file's categories",
        fix_images=f'pass the right image folder (--{split}-images)',
    )


def inspect_dataset(
    train_ann: str,
    train_images: str,
    val_ann: str,
    val_images: str,
    classes: Optional[Sequence[str]] = None,
) -> DatasetSummary:
    """Check both splits (files, JSON, categories, classes, images) and count them.

    ``classes`` defaults to the training file's categories, in their order; a given
    list must name categories of both files. Raises
    :class:`~mmrethink.datasets.coco_check.CocoDatasetError` for what would break the
    runs; returns warnings for what would only weaken them (images without annotations,
    classes without instances, a very small training set).
    """
    train = _check(train_ann, train_images, 'train', classes)
    classes = list(classes) if classes else [c['name'] for c in train['categories']]
    _check(val_ann, val_images, 'val', classes)
    ids = {c['id']: c['name'] for c in train['categories']}
    annotations = [a for a in train['annotations'] if ids.get(a['category_id']) in classes]
    per_class = summary(train)['per_category']
    with_ann = {a['image_id'] for a in annotations}
    warnings = []
    bare = sum(im['id'] not in with_ann for im in train['images'])
    if bare:
        warnings.append(
            f'{bare} of {len(train["images"])} training images have no '
            'annotation of these classes; the loader skips them.'
        )
    empty = [c for c in classes if per_class.get(c, 0) == 0]
    if empty:
        warnings.append(
            f'classes with no training instance: {empty}; the detector cannot '
            'learn them (drop them with --classes).'
        )
    usable = len(train['images']) - bare
    if usable < SMALL_DATASET:
        warnings.append(
            f'only {usable} training images with annotations: a very small set '
            "(the paper's smallest is 1k COCO images)."
        )
    has_masks = any(
        isinstance(a.get('segmentation'), (list, dict)) and a['segmentation'] for a in annotations
    )
    listed = [c.get('keypoints') or [] for c in train['categories'] if c['name'] in classes]
    labeled = any(any(v > 0 for v in (a.get('keypoints') or [])[2::3]) for a in annotations)
    return DatasetSummary(
        train_ann,
        train_images,
        val_ann,
        val_images,
        classes,
        usable,
        len(annotations),
        has_masks,
        warnings,
        list(listed[0]) if labeled and listed else [],
    )


def regime(num_images: int) -> str:
    """What the paper predicts for this many training images (He et al. 2019, Sec. 5)."""
    found = (
        'paper, Sec. 5: COCO 118k images, R50 GN: scratch 41.3 vs pretrained 41.1 box '
        'AP (6x); 35k: 36.3 vs 36.3 (6x, both tuned); 10k: 25.9 vs 26.0, only with '
        'hyper-parameters tuned on the pretrained arm and a schedule ~3.7x longer for '
        'scratch; 3.5k: 9.3 vs 16.0; 1k: 3.5 vs 9.9; PASCAL VOC: 77.6 vs 82.7 mAP'
    )
    if num_images >= 35_000:
        verdict = (
            'plentiful: the paper finds that scratch catches up with pre-training '
            'given a long enough schedule'
        )
    elif num_images >= 10_000:
        verdict = (
            'borderline: the paper finds scratch catches up at 10k images only with '
            'tuned hyper-parameters and a long schedule'
        )
    else:
        verdict = (
            'scarce: below ~10k images the paper finds that scratch does not catch '
            'up; expect pre-training to win'
        )
    return f'{num_images} training images: {verdict} ({found}).'
