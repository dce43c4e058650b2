"""Images, instances and pixels seen by each arm: the paper's Figure 1, from real configs.

A pretrained arm sees ImageNet pre-training plus its fine-tuning schedule; a scratch
arm sees only its (longer) schedule. Fine-tuning figures come from the config
(iterations x total batch) and the dataset's own statistics (instances per training
image, pixels per image after the training resize); ImageNet figures are the ones the
paper uses.
"""

from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

from mmengine.config import Config

from mmrethink.datasets.coco_subset import load_coco
from mmrethink.utils.configs import backbone_checkpoint

from .figures import plt, save_png_svg
from .runs import Run

# He et al. 2019, Sec. 3 / Fig. 1: ~1.28M images, ~100 epochs, 224x224 crops, one
# labelled object per image.
IMAGENET = dict(images=1.28e6 * 100, instances=1.28e6 * 100, pixels=1.28e6 * 100 * 224 * 224)
KINDS = ('images', 'instances', 'pixels')


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


def _train_scales(cfg: Config) -> List[Tuple[int, int]]:
    for step in cfg.train_dataloader.dataset.get('pipeline', []):
        if step['type'] == 'Resize':
            return [tuple(step['scale'])]
        if step['type'] in ('RandomResize', 'RandomChoiceResize'):
            return [tuple(s) for s in step.get('scale', step.get('scales'))]
    return []


def _resized_pixels(h: int, w: int, scales: Sequence[Tuple[int, int]]) -> float:
    if not scales:
        return float(h * w)
    total = 0.0
    for long_side, short_side in scales:  # mmcv's keep_ratio rescale
        factor = min(max(long_side, short_side) / max(h, w), min(long_side, short_side) / min(h, w))
        total += round(h * factor) * round(w * factor)
    return total / len(scales)


def dataset_statistics(ann_file: str, scales: Sequence[Tuple[int, int]]) -> Dict[str, float]:
    """Mean instances and resized pixels per training image (images with objects)."""
    coco = load_coco(ann_file)
    counts: Dict[int, int] = {}
    for ann in coco['annotations']:
        if not ann.get('iscrowd', 0):
            counts[ann['image_id']] = counts.get(ann['image_id'], 0) + 1
    images = [im for im in coco['images'] if im['id'] in counts]
    if not images:
        raise ValueError(f'{ann_file} has no image with a (non-crowd) annotation.')
    return dict(
        instances=sum(counts.values()) / len(images),
        pixels=sum(_resized_pixels(im['height'], im['width'], scales) for im in images)
        / len(images),
    )


def arm_samples(
    cfg: Config,
    name: str,
    ann_file: str,
    total_batch: Optional[int] = None,
    pre_training: Dict[str, float] = IMAGENET,
) -> ArmSamples:
    """What one config's schedule shows the model, at ``total_batch`` (default 16).

    A config whose backbone loads a checkpoint is counted with ``pre_training`` (the
    paper's ImageNet figures unless another pre-training is given).
    """
    if 'max_iters' not in cfg.train_cfg:
        raise ValueError(
            f'{name}: sample accounting needs an iteration-based config '
            '(train_cfg.max_iters); every mmrethink config is one.'
        )
    batch = total_batch or cfg.get('auto_scale_schedule', {}).get('base_batch_size', 16)
    stats = dataset_statistics(ann_file, _train_scales(cfg))
    images = cfg.train_cfg.max_iters * batch
    return ArmSamples(
        name,
        pre_training if backbone_checkpoint(cfg.model) else NOTHING,
        dict(images=images, instances=images * stats['instances'], pixels=images * stats['pixels']),
    )


def measured_samples(run: Run, pre_training: Dict[str, float] = IMAGENET) -> ArmSamples:
    """What one finished run was shown, as its ConvergenceHook counted the real batches.

    For training sets without an annotation file (SyntheticShapesStream); a run whose
    backbone loaded a checkpoint is counted with ``pre_training``.
    """
    last = run.final
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
    fig, axes = plt.subplots(1, 3, figsize=(13, 4.2))
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
