"""Images, instances and pixels seen by each arm: the paper's Figure 1, from real configs.

A pretrained arm sees ImageNet pre-training plus its fine-tuning schedule; a scratch
arm sees only its (longer) schedule. Fine-tuning figures come from the config
(iterations x total batch) and the dataset's own statistics: instances per training
image, and pixels per image after the training pipeline's resize and crop, before the
batch is padded (what ``ConvergenceHook`` counts in the real batches, so measured and
predicted figures agree). A random resize (a scale range, or LSJ's ratio range) is
averaged over its range; after a crop (LSJ: 1024 x 1024 of an image resized to
0.1-2.0 x 1024) an image counts its expected crop area, not the padded 1024 x 1024,
and the instances whose box overlaps the crop. ImageNet figures are the paper's.
"""

from dataclasses import dataclass
from functools import lru_cache
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from mmengine.config import Config

from mmrethink.datasets.coco_check import load_coco
from mmrethink.engine.schedule_rules import schedule_batch
from mmrethink.utils.configs import backbone_checkpoint

from .figures import panels, save_png_svg
from .runs import Run

# He et al. 2019, Sec. 3 / Fig. 1: ~1.28M images, ~100 epochs, 224x224 crops, one
# labelled object per image.
IMAGENET = dict(images=1.28e6 * 100, instances=1.28e6 * 100, pixels=1.28e6 * 100 * 224 * 224)
KINDS = ('images', 'instances', 'pixels')
# A uniform draw (RandomResize's ratio or edge range) is averaged at the midpoints of
# this many equal parts of its range. LSJ's expected crop area of 480x640, 640x640,
# 427x640 and 1000x200 images came within 0.052% of the integral over the ratio (256
# parts: within 0.042%, the rest being mmcv's integer rounding, which the integral
# leaves out; measured here, tests/test_modern_tools.py checks 0.1%).
RANGE_SAMPLES = 64


NOTHING = dict.fromkeys(KINDS, 0.0)


@dataclass
class ArmSamples:
    """Images, instances and pixels one arm sees, before and during detection training."""

    name: str
    pre_training: Dict[str, float]
    fine_tuning: Dict[str, float]

    def total(self, kind: str) -> float:
        """Pre-training plus fine-tuning of one ``kind`` (images, instances or pixels)."""
        return self.pre_training[kind] + self.fine_tuning[kind]


@dataclass(frozen=True)
class TrainGeometry:
    """What the training pipeline does to an image's size, as far as counting goes.

    ``scales``: the resize targets, equally likely (mmcv's keep-ratio rule: fit the
    image in the scale); none: the image as stored. ``crop``: (height, width) of the
    crop window after the resize, or None. ``description``: the same, in words.
    """

    scales: Tuple[Tuple[int, int], ...] = ()
    crop: Optional[Tuple[int, int]] = None
    description: str = 'the image as stored'


def _midpoints(low: float, high: float) -> np.ndarray:
    """Stand-ins for a uniform draw from [low, high] (one value if low == high)."""
    edges = np.linspace(low, high, RANGE_SAMPLES + 1)
    return np.unique((edges[:-1] + edges[1:]) / 2) if high > low else np.array([low])


def _resize_scales(step: dict) -> Tuple[Tuple[int, int], ...]:
    """The scales a resize step draws from, as mmcv draws them."""
    if step['type'] == 'Resize':
        return (tuple(step['scale']),)
    if step['type'] == 'RandomChoiceResize':
        return tuple(tuple(s) for s in step['scales'])
    scale = step['scale']
    if step.get('ratio_range'):  # scale x U(ratio_range), truncated to int
        ratios = _midpoints(*step['ratio_range'])
        return tuple((int(scale[0] * r), int(scale[1] * r)) for r in ratios)
    # Two scales: each edge drawn uniformly between theirs.
    firsts, seconds = (_midpoints(*sorted(edges)) for edges in zip(*scale))
    return tuple((round(a), round(b)) for a in firsts for b in seconds)


def _crop_window(step: dict) -> Tuple[int, int]:
    """(height, width) of mmdet's RandomCrop window, for the types counted here."""
    size, kind = tuple(step['crop_size']), step.get('crop_type', 'absolute')
    if kind == 'absolute':
        return size[1], size[0]  # crop_size is (width, height)
    if kind == 'absolute_range' and size[0] == size[1]:  # LSJ: a fixed square
        return size[0], size[0]
    raise ValueError(
        f'sample accounting counts RandomCrop with crop_type absolute, or absolute_range '
        f'with one size; got {kind} {size}.'
    )


def train_geometry(cfg: Config) -> TrainGeometry:
    """The resize and crop of ``cfg``'s training pipeline (the first of each)."""
    scales, crop, words = (), None, []
    for step in cfg.train_dataloader.dataset.get('pipeline', []):
        if not scales and step['type'] in ('Resize', 'RandomResize', 'RandomChoiceResize'):
            scales = _resize_scales(step)
            ranges = {k: step[k] for k in ('scale', 'scales', 'ratio_range') if k in step}
            words.append(f'{step["type"]} {ranges}')
        elif crop is None and step['type'] == 'RandomCrop':
            crop = _crop_window(step)
            words.append(
                f'RandomCrop {crop[0]} x {crop[1]} (its expected area; instances whose box '
                'overlaps it)'
            )
    return TrainGeometry(scales, crop, ', then '.join(words) or TrainGeometry.description)


@lru_cache(maxsize=None)
def _resized(height: int, width: int, scales: Tuple[Tuple[int, int], ...]) -> np.ndarray:
    """(K, 2) heights and widths after a keep-ratio resize to each scale (mmcv's rule)."""
    if not scales:
        return np.array([[height, width]], dtype=float)
    long_sides, short_sides = np.max(scales, axis=1), np.min(scales, axis=1)
    factor = np.minimum(long_sides / max(height, width), short_sides / min(height, width))
    return np.floor(np.outer(factor, [height, width]) + 0.5)


def _kept_fraction(
    low: np.ndarray, high: np.ndarray, stored: int, resized: np.ndarray, window: int
) -> np.ndarray:
    """(K, boxes): the share of RandomCrop's offsets along one axis whose window
    overlaps each box [low, high) (stored pixels), at each resized length.

    mmdet draws the offset uniformly from the integers 0..max(resized - window, 0).
    """
    scale = (resized / stored)[:, None]
    margin = np.maximum(resized - window, 0)[:, None]
    first = np.maximum(0, np.floor(low * scale - window) + 1)
    last = np.minimum(margin, np.ceil(high * scale) - 1)
    return np.clip(last - first + 1, 0, None) / (margin + 1)


def image_statistics(
    height: int, width: int, boxes: Sequence[Sequence[float]], geometry: TrainGeometry
) -> Tuple[float, float]:
    """Expected instances and pixels of one training image (``boxes``: (n, 4) xywh)
    after ``geometry``'s resize and crop, before batch padding."""
    sizes = _resized(height, width, geometry.scales)
    if geometry.crop is None:
        return float(len(boxes)), float(np.mean(sizes[:, 0] * sizes[:, 1]))
    crop_h, crop_w = geometry.crop
    pixels = np.minimum(sizes[:, 0], crop_h) * np.minimum(sizes[:, 1], crop_w)
    x, y, w, h = np.asarray(boxes, dtype=float).reshape(-1, 4).T
    kept = _kept_fraction(y, y + h, height, sizes[:, 0], crop_h) * _kept_fraction(
        x, x + w, width, sizes[:, 1], crop_w
    )
    return float(np.mean(kept.sum(axis=1))), float(np.mean(pixels))


def dataset_statistics(ann_file: str, geometry: TrainGeometry) -> Dict[str, float]:
    """Mean instances and pixels per training image (images with objects) after the
    training pipeline's resize and crop (:func:`image_statistics`)."""
    coco = load_coco(ann_file)
    boxes: Dict[int, List[List[float]]] = {}
    for ann in coco['annotations']:
        if not ann.get('iscrowd', 0):
            boxes.setdefault(ann['image_id'], []).append(ann['bbox'])
    images = [im for im in coco['images'] if im['id'] in boxes]
    if not images:
        raise ValueError(f'{ann_file} has no image with a (non-crowd) annotation.')
    per_image = np.array(
        [image_statistics(im['height'], im['width'], boxes[im['id']], geometry) for im in images]
    )
    instances, pixels = per_image.mean(axis=0)
    return dict(instances=float(instances), pixels=float(pixels))


def arm_samples(
    cfg: Config,
    name: str,
    ann_file: str,
    total_batch: Optional[int] = None,
    pre_training: Dict[str, float] = IMAGENET,
) -> ArmSamples:
    """What one config's schedule shows the model, at ``total_batch`` (default: the batch
    its schedule is written for, :func:`~mmrethink.engine.schedule_rules.schedule_batch`).

    A config whose backbone loads a checkpoint is counted with ``pre_training`` (the
    paper's ImageNet figures unless another pre-training is given).
    """
    if 'max_iters' not in cfg.train_cfg:
        raise ValueError(
            f'{name}: sample accounting needs an iteration-based config '
            '(train_cfg.max_iters); every mmrethink config is one.'
        )
    batch = total_batch or schedule_batch(cfg)
    stats = dataset_statistics(ann_file, train_geometry(cfg))
    images = cfg.train_cfg.max_iters * batch
    return ArmSamples(
        name,
        pre_training if backbone_checkpoint(cfg.model) else NOTHING,
        dict(images=images, instances=images * stats['instances'], pixels=images * stats['pixels']),
    )


def measured_samples(run: Run, pre_training: Dict[str, float] = IMAGENET) -> ArmSamples:
    """What one finished run was shown, as its ConvergenceHook counted the real batches.

    What a report of finished runs counts (no annotation file needed: SyntheticShapesStream
    has none); a run whose backbone loaded a checkpoint is counted with ``pre_training``.
    """
    last = run.last_evaluation
    if not all(kind in last for kind in KINDS):
        raise ValueError(f'{run.name}: no counted images/instances/pixels; did it evaluate?')
    pre = pre_training if run.config and backbone_checkpoint(run.config.model) else NOTHING
    return ArmSamples(run.name, pre, {kind: float(last[kind]) for kind in KINDS})


def samples_table(arms: Sequence[ArmSamples]) -> str:
    """Markdown table: pre-training, fine-tuning and total of each kind per arm."""
    lines = ['| arm | kind | pre-training | fine-tuning | total |', '|---|---|---|---|---|']
    for arm in arms:
        for kind in KINDS:
            lines.append(
                f'| {arm.name} | {kind} | {arm.pre_training[kind]:.3g} | '
                f'{arm.fine_tuning[kind]:.3g} | {arm.total(kind):.3g} |'
            )
    return '\n'.join(lines)


def plot_samples(arms: Sequence[ArmSamples], out_stem: str) -> List[str]:
    """Bar chart per kind, pre-training stacked under fine-tuning (log scale)."""
    fig, axes = panels(3, 13 / 3, 4.2)
    names = [a.name for a in arms]
    for ax, kind in zip(axes, KINDS):
        pre = [a.pre_training[kind] for a in arms]
        fine = [a.fine_tuning[kind] for a in arms]
        ax.bar(names, pre, color='C1', label='pre-training')
        ax.bar(names, fine, bottom=pre, color='C0', label='detection training')
        ax.set_yscale('log')
        ax.set_title(f'{kind} seen')
        ax.tick_params(axis='x', labelrotation=20, labelsize=7)
        ax.legend(fontsize=7)
    return save_png_svg(fig, out_stem)
