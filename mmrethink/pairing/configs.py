"""The two configs of a paired experiment, written as short diffs on the pack's arms."""

import os
import os.path as osp
from dataclasses import dataclass
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

from mmengine.config import Config

from mmrethink.analysis.convergence import MIN_EVALUATIONS, judged_window
from mmrethink.datasets.coco_keypoints import COCO_KEYPOINT_NAMES
from mmrethink.engine.schedule_rules import Schedule
from mmrethink.utils.arms import ARMS
from mmrethink.utils.configs import backbone_checkpoint, is_checkpoint_init, walk

from .dataset import DatasetSummary, PairingError, regime
from .recipes import RECIPES, Recipe

GN_101 = 'open-mmlab://detectron/resnet101_gn'
MODEL_NAMES = dict(keypoint='keypoint-rcnn', mask='mask-rcnn', box='faster-rcnn')


@dataclass
class PairedConfigs:
    """Paths of the two configs written, and each arm's schedule."""

    paths: Dict[str, str]
    schedules: Dict[str, Schedule]
    lr_note: str = ''


class BaseReference(str):
    """Config text written as it is: a reference such as ``{{_base_.stream_train_pipeline}}``."""


def _as_call(value: object) -> str:
    """A value as config text, dicts written ``dict(key=...)`` as configs are."""
    if isinstance(value, BaseReference):
        return str(value)
    if isinstance(value, dict):
        return 'dict(' + ', '.join(f'{k}={_as_call(v)}' for k, v in value.items()) + ')'
    return repr(value)


def arm_config_text(base: str, comments: Sequence[str], settings: Dict[str, object]) -> str:
    """An arm's config as a short diff on ``base``: the comments, ``_base_``, then one
    ``key = dict(...)`` line per setting, and the test split set as the validation one.

    The one writer of the pack's generated configs (tools/pair_experiment.py, the demo).
    """
    lines = [f'# {line}' for line in comments] + [f'_base_ = {base!r}', '']
    lines += [f'{key} = {_as_call(value)}' for key, value in settings.items()]
    lines += ['test_dataloader = val_dataloader', 'test_evaluator = val_evaluator']
    return '\n'.join(lines) + '\n'


def _model_settings(
    summary: DatasetSummary,
    algorithm: str,
    depth: int,
    arm: str,
    checkpoint: Optional[str],
    prefix: Optional[str],
    also_loading: Sequence[str] = (),
) -> Dict[str, object]:
    """The model's overrides: classes (and keypoints), depth, and with ``checkpoint``
    the pretrained arm's backbone weights; ``also_loading`` (dotted paths under
    ``model``) are the base's other inits that load its ImageNet file, pointed at
    ``checkpoint`` too."""
    roi_head: Dict[str, object] = dict(bbox_head=dict(num_classes=len(summary.classes)))
    if algorithm == 'mask':
        roi_head['mask_head'] = dict(num_classes=len(summary.classes))
    if algorithm == 'keypoint':
        roi_head['keypoint_head'] = dict(num_keypoints=len(summary.keypoint_names))
    backbone: Dict[str, object] = {}
    # The pack's Faster and Keypoint R-CNN arms are R50.
    if algorithm in ('box', 'keypoint') and depth == 101:
        backbone['depth'] = 101
        if arm == 'pretrained':
            backbone['init_cfg'] = dict(checkpoint=GN_101)
    if arm == 'pretrained' and checkpoint:
        backbone['init_cfg'] = dict(checkpoint=checkpoint, **({'prefix': prefix} if prefix else {}))
    settings = dict(**({'backbone': backbone} if backbone else {}), roi_head=roi_head)
    if arm == 'pretrained' and checkpoint:
        for path in also_loading:
            *parents, leaf = path.split('.')
            node = settings
            for key in parents:
                node = node.setdefault(key, {})
            node[leaf] = dict(checkpoint=checkpoint)
    return settings


def _load_base(base: str) -> Config:
    """The config ``base`` names (a file, or ``pkg::folder/file.py``)."""
    try:
        if '::' in base:  # resolved as the written config's _base_ will be
            return Config.fromstring(f'_base_ = {base!r}', '.py')
        return Config.fromfile(base)
    except FileNotFoundError as e:
        raise PairingError(
            f'--base {base}: {e}. Name a config file, or a pack config as '
            "mmrethink::<folder>/<file>.py, with {arm} where the arms' names differ."
        ) from None


def _base_algorithm(summary: DatasetSummary, base: str) -> str:
    """What a custom base trains, read from its heads (a Faster R-CNN base on data with
    masks stays Faster R-CNN); refused where the data lacks the labels it needs."""
    roi_head = _load_base(base.format(arm='scratch')).model.get('roi_head') or {}
    if roi_head.get('keypoint_head'):
        algorithm, labeled = 'keypoint', bool(summary.keypoint_names)
    elif roi_head.get('mask_head'):
        algorithm, labeled = 'mask', summary.has_masks
    else:
        algorithm, labeled = 'box', True
    if not labeled:
        raise PairingError(
            f'--base {base} has a {algorithm} head and {summary.train_ann} has no '
            f'{algorithm} labels: pass a base without that head, or a file with them.'
        )
    return algorithm


def _also_loading(base: str, prefix: Optional[str]) -> List[str]:
    """The pretrained base's inits other than the backbone's that load the backbone's
    ImageNet file (the VGG head's fc6/fc7), as dotted paths under ``model``: a
    ``--checkpoint`` replaces that file for all of them, as the arm guard requires."""
    model = _load_base(base.format(arm='pretrained')).model
    imagenet = backbone_checkpoint(model)
    if imagenet is None:
        return []
    paths = [
        path
        for path, value in walk(model)
        if is_checkpoint_init(value)
        and path != 'backbone.init_cfg'
        and value.get('checkpoint') == imagenet['checkpoint']
    ]
    if paths and prefix:
        raise PairingError(
            f'--checkpoint-prefix {prefix} with --base {base}: its {paths[0]} also loads '
            "the ImageNet file, by torchvision's names (classifier.0 and classifier.3, no "
            "prefix); pass a file in torchvision's layout without --checkpoint-prefix."
        )
    return paths


def _algorithm(summary: DatasetSummary) -> str:
    """The pack's arm for the data: Keypoint R-CNN for labeled keypoints (COCO's 17: the
    pack's arms carry COCO's flip map and OKS sigmas), else Mask R-CNN for masks, else
    Faster R-CNN. (A ``--base`` says what it trains itself: :func:`_base_algorithm`.)"""
    if not summary.keypoint_names:
        return 'mask' if summary.has_masks else 'box'
    if tuple(summary.keypoint_names) != COCO_KEYPOINT_NAMES:
        raise PairingError(
            f'{summary.train_ann} labels the keypoints {summary.keypoint_names[:5]}..., not '
            "COCO's 17: the pack's Keypoint R-CNN arms carry COCO's flip map and OKS "
            'sigmas. Write a base config whose datasets set metainfo=dict(keypoint_names=..., '
            'flip_indices=..., sigmas=...) and keypoint_head.num_keypoints, and pass it as '
            '--base.'
        )
    return 'keypoint'


def _data_settings(summary: DatasetSummary, batch_per_gpu: Optional[int]) -> Dict[str, object]:
    def split(ann: str, images: str) -> Dict[str, object]:
        return dict(
            data_root='',
            ann_file=ann,
            data_prefix=dict(img=images),
            metainfo=dict(classes=tuple(summary.classes)),
        )

    batch = {'batch_size': batch_per_gpu} if batch_per_gpu else {}
    return dict(
        train_dataloader=dict(**batch, dataset=split(summary.train_ann, summary.train_images)),
        val_dataloader=dict(dataset=split(summary.val_ann, summary.val_images)),
        val_evaluator=dict(ann_file=summary.val_ann),
    )


def _full_lr_end(schedule: Schedule) -> int:
    """The first LR drop, or the end of a run without drops."""
    return schedule.milestones[0] if schedule.milestones else schedule.max_iters


class JudgedEvaluations(NamedTuple):
    """Extra evaluations every ``every`` iterations over the judged window [start, end]."""

    start: int
    end: int
    every: int

    def dynamic_intervals(self, val_interval: int) -> List[Tuple[int, int]]:
        """mmengine's ``dynamic_intervals``: ``every`` in the window, the schedule's own
        ``val_interval`` after it. mmengine applies an interval from the iteration before
        its milestone, hence start + 1 and end + 2."""
        return [(self.start + 1, self.every), (self.end + 2, val_interval)]


def _judged_evaluations(schedule: Schedule) -> Optional[JudgedEvaluations]:
    """Evaluations enough for the convergence rule: at the multiples of (window /
    (MIN_EVALUATIONS + 1)) within the last quarter of the full-LR stage (at least
    ``MIN_EVALUATIONS + 1`` of them); None when the schedule's own interval gives them
    already (a paper 1x evaluates every 1/9 of the run: once or twice in that quarter)."""
    start, end = judged_window(_full_lr_end(schedule))
    if (end - start) // schedule.val_interval >= MIN_EVALUATIONS + 1:
        return None
    return JudgedEvaluations(start, end, max(1, (end - start) // (MIN_EVALUATIONS + 1)))


def _schedule_settings(
    schedule: Schedule,
    judged: Optional[JudgedEvaluations],
    lr: Optional[float],
    total_batch: Optional[int],
) -> Dict[str, object]:
    """The arm's schedule, with the ``judged`` window's evaluations if any; with the LR
    scaled to ``total_batch``, that LR and the batch that ``--auto-scale-schedule`` would
    rescale both from."""
    settings: Dict[str, object] = dict(schedule.config_settings())
    if judged:
        intervals = judged.dynamic_intervals(schedule.val_interval)
        settings['train_cfg'] = dict(settings['train_cfg'], dynamic_intervals=intervals)
    if lr is not None:
        settings.update(
            optim_wrapper=dict(optimizer=dict(lr=float(f'{lr:.10g}'))),
            auto_scale_schedule=dict(base_batch_size=total_batch),
            auto_scale_lr=dict(base_batch_size=total_batch),
        )
    return settings


def _base_template(recipe: Recipe, algorithm: str, norm: str, train_ann: str) -> str:
    """The pack's arm (``{depth}``, ``{arm}`` left in) for the data and norm, or why the
    recipe has none."""
    template = recipe.bases.get((algorithm, norm))
    if template is not None:
        return template
    norms = sorted({n for _, n in recipe.bases})
    if norm not in norms:
        raise PairingError(
            f'--norm {norm} with --recipe {recipe.name}: its arms use {" or ".join(norms)}; '
            f'pass --norm {norms[0]}, or leave --norm out.'
        )
    if algorithm not in {a for a, _ in recipe.bases} and algorithm == 'keypoint':
        raise PairingError(
            f'--recipe {recipe.name} has no Keypoint R-CNN arms and {train_ann} labels '
            "keypoints: pass --recipe paper (the paper's keypoint pair)."
        )
    if algorithm not in {a for a, _ in recipe.bases}:
        raise PairingError(
            f'--recipe {recipe.name} has Mask R-CNN arms only, and {train_ann} has no masks '
            "(no 'segmentation' in its annotations): add polygon or RLE masks to it, or "
            'pass --recipe paper, whose Faster R-CNN arms train on boxes alone.'
        )
    if algorithm == 'keypoint':
        raise PairingError(
            f"{norm} with keypoint data: the pack's Keypoint R-CNN arms use GN (the "
            "paper's keypoint pair); pass --norm gn."
        )
    raise PairingError(
        f"{norm} with box-only data: the pack's Faster R-CNN arms use "
        'GN; pass --norm gn, or masks in the annotation file.'
    )


def _scaled_lr(recipe: Recipe, total_batch: Optional[int], custom_base: bool) -> Optional[float]:
    """The LR to write: the recipe's, linear in the batch, for the pack's own arms."""
    return None if custom_base or not total_batch else recipe.rule.lr_at(total_batch)


def _lr_note(recipe: Recipe, total_batch: Optional[int], lr: Optional[float]) -> str:
    """What the LR is and why, for the config header and the tool's output."""
    if lr is None:
        return "the base's own"
    rule = recipe.rule
    return (
        f'{lr:g} ({rule.lr:g} at total batch {rule.batch}, x {total_batch} / '
        f'{rule.batch}: the same LR per image, as --auto-scale-schedule scales it)'
    )


def _config_paths(
    out_dir: str,
    name: str,
    base: Optional[str],
    model_name: str,
    norm: str,
    recipe: Recipe,
    schedules: Dict[str, Schedule],
) -> Dict[str, str]:
    """Each arm's file: named as the pack's arms, or after ``base`` (<its name>_<name>)."""
    if base is not None:
        return {
            arm: osp.join(out_dir, osp.basename(base.format(arm=arm))[:-3] + f'_{name}.py')
            for arm in ARMS
        }
    return {
        arm: osp.join(
            out_dir,
            f'{model_name}-{arm}_fpn_{norm}-all_'
            f'{recipe.name_format.format(schedules[arm].length)}_{name}.py',
        )
        for arm in ARMS
    }


def _recipe_schedules(
    recipe: Recipe,
    lengths: Optional[Dict[str, float]],
    summary: DatasetSummary,
    total_batch: Optional[int],
    until_converged: bool,
) -> Dict[str, Schedule]:
    """Each arm's schedule by images seen at ``total_batch``: ``lengths`` over the
    recipe's defaults (until converged, its cap for both arms)."""
    if not total_batch:
        raise PairingError('the images-seen schedules need the batch: pass batch_per_gpu.')
    defaults = dict.fromkeys(ARMS, recipe.cap) if until_converged else recipe.lengths
    lengths = {**defaults, **(lengths or {})}
    return {
        arm: recipe.rule.schedule(lengths[arm], summary.num_train_images, total_batch)
        for arm in ARMS
    }


def _arm_comments(
    arm: str,
    summary: DatasetSummary,
    recipe: Recipe,
    schedule: Schedule,
    lr_note: str,
    lr: Optional[float],
    judged: Optional[JudgedEvaluations],
    until_converged: bool,
) -> List[str]:
    """The header of an arm's file: what it is, and where each of its numbers comes from."""
    comments = [
        f'The {arm} arm of a paired experiment (tools/pair_experiment.py).',
        regime(summary.num_train_images),
        f'Recipe: {recipe.name} (--recipe).',
        f'Schedule: {schedule.derivation}',
        f'LR: {lr_note}',
    ]
    if lr is not None:
        comments.append(
            'The schedule and LR are for the total batch of auto_scale_schedule: '
            'tools/train.py --auto-scale-schedule on another one rescales them from it.'
        )
    if until_converged:
        comments.append(
            'Until converged (--until-converged): the schedule above is the cap. '
            'UntilConvergedHook ends the full-LR stage at the first evaluation at which '
            'the convergence rule (mmrethink/utils/convergence_rule.py) holds, then '
            'trains the same tail, and writes what it chose to work_dir/schedule.json.'
        )
    if judged:
        comments.append(
            f'Evaluations at the multiples of {judged.every} from {judged.start} to the first '
            f'LR drop ({judged.end}): the convergence rule (mmrethink/analysis/convergence.py) '
            f'judges this last quarter of the full-LR stage on at least {MIN_EVALUATIONS}.'
        )
    return comments


def write_pair(
    summary: DatasetSummary,
    out_dir: str,
    name: str,
    depth: int = 50,
    norm: Optional[str] = None,
    gpus: int = 8,
    batch_per_gpu: Optional[int] = 2,
    lengths: Optional[Dict[str, float]] = None,
    schedules: Optional[Dict[str, Schedule]] = None,
    base: Optional[str] = None,
    checkpoint: Optional[str] = None,
    checkpoint_prefix: Optional[str] = None,
    recipe: str = 'paper',
    until_converged: bool = False,
) -> PairedConfigs:
    """Write ``<out_dir>/<model>-{scratch,pretrained}_..._<name>.py``; never overwrite.

    Each inherits the pack's arm of ``recipe`` for the data ('paper': Keypoint R-CNN when
    the training file labels COCO's keypoints, else Mask R-CNN when it has masks, else
    Faster R-CNN; GN (default) or SyncBN, keypoints GN only; 'lsj': Mask R-CNN with SyncBN,
    masks required), R50/R101, or ``base`` (a config name with ``{arm}``, whose own heads
    say what it trains), and sets the dataset, classes, ``num_classes`` and each arm's
    schedule: ``schedules`` as given, else the recipe's in images seen for ``lengths`` (its
    unit: the paper's x, LSJ epochs; defaults 3x and 1x, 100 and 25 ep) at ``gpus x
    batch_per_gpu``, with the recipe's LR scaled to that batch (not with ``base``: it keeps
    its own). ``batch_per_gpu=None`` keeps the base's batch and needs ``schedules``.
    ``checkpoint`` replaces the pretrained arm's ImageNet model (with ``checkpoint_prefix``
    for a classifier's ``backbone.``), wherever the base loads it (the VGG arms' fc6/fc7
    too). With ``until_converged`` each schedule is a cap (default: the recipe's ``cap`` for
    both arms): ``UntilConvergedHook`` ends its full-LR stage once the convergence rule
    holds.
    """
    chosen = RECIPES[recipe]
    if depth not in (50, 101):
        raise PairingError(f'--depth {depth}: the pack has R50 and R101 arms; choose one.')
    if base is not None and depth != 50:
        raise PairingError(
            f'--depth {depth} with --base {base}: the base sets its own network; drop '
            '--depth, or pass a base of that depth.'
        )
    algorithm = _algorithm(summary) if base is None else _base_algorithm(summary, base)
    norm = norm or chosen.norm
    arm_base = base or _base_template(chosen, algorithm, norm, summary.train_ann).format(
        depth=depth, arm='{arm}'
    )
    total_batch = gpus * batch_per_gpu if batch_per_gpu else None
    if schedules is None:
        schedules = _recipe_schedules(chosen, lengths, summary, total_batch, until_converged)
    model_name = MODEL_NAMES[algorithm] + f'_r{depth}'
    paths = _config_paths(out_dir, name, base, model_name, norm, chosen, schedules)
    existing = [p for p in paths.values() if osp.exists(p)]
    if existing:
        raise PairingError(f'{existing[0]} exists; pass another --out (nothing is overwritten).')
    lr = _scaled_lr(chosen, total_batch, base is not None)
    note = _lr_note(chosen, total_batch, lr)
    also_loading = _also_loading(base, checkpoint_prefix) if base and checkpoint else []
    os.makedirs(out_dir, exist_ok=True)
    for arm, path in paths.items():
        judged = None if until_converged else _judged_evaluations(schedules[arm])
        comments = _arm_comments(
            arm, summary, chosen, schedules[arm], note, lr, judged, until_converged
        )
        settings = dict(
            **_data_settings(summary, batch_per_gpu),
            model=_model_settings(
                summary, algorithm, depth, arm, checkpoint, checkpoint_prefix, also_loading
            ),
            **_schedule_settings(schedules[arm], judged, lr, total_batch),
        )
        if until_converged:
            settings['default_hooks'] = dict(
                settings['default_hooks'], until_converged=dict(type='UntilConvergedHook')
            )
        with open(path, 'w') as f:
            f.write(arm_config_text(arm_base.format(arm=arm), comments, settings))
    return PairedConfigs(paths, schedules, note)


def launch_commands(configs: PairedConfigs, out_dir: str, gpus: int) -> List[str]:
    """How to run both arms with the pack's scripts and with mim."""
    lines = []
    for arm, path in configs.paths.items():
        work_dir = osp.join(out_dir, 'work_dirs', arm)
        lines += [
            f'tools/dist_train.sh {path} {gpus} --work-dir {work_dir}',
            f'GPUS={gpus} tools/slurm_train.sh PARTITION {arm} {path} {work_dir}',
            f'mim train mmrethink {path} --gpus {gpus} --launcher pytorch --work-dir {work_dir}',
        ]
    return lines
