"""Refuse runs that would silently break the scratch-versus-pretrained comparison."""

import os.path as osp
import re
from typing import TYPE_CHECKING, Dict, Iterable, List, Optional, Tuple

import torch.nn as nn
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.runner import CheckpointLoader

from mmrethink.models.vgg import VGGFCBBoxHead, torchvision_fcs
from mmrethink.registry import HOOKS
from mmrethink.utils.arms import ARMS
from mmrethink.utils.configs import backbone_checkpoint, is_checkpoint_init, walk
from mmrethink.utils.refusal import Refusal

from .checkpoint_timing import checkpoint_to_resume, read_checkpoint

if TYPE_CHECKING:
    from mmengine.runner import Runner

# What each arm may freeze, as mmdet's ResNet.frozen_stages: -1 nothing; 1 the stem and
# res2 (Detectron's default TRAIN.FREEZE_AT = 2, which its GN fine-tuning runs used;
# its scratch runs set FREEZE_AT 0, see configs/rethinking/README.md).
MAX_FROZEN_STAGES = dict(scratch=-1, pretrained=1)
STEM = ('conv1', 'norm1', 'bn1', 'gn1', 'stem')
# The state a checkpoint must provide: learned tensors and BN running statistics, not
# counters such as num_batches_tracked (absent from torchvision's ImageNet files).
STATISTICS = ('running_mean', 'running_var')
# Blocks per stage of mmdet's ResNet depths, to name the network a checkpoint is of.
RESNET_DEPTHS = {
    (False, (2, 2, 2, 2)): 18,
    (False, (3, 4, 6, 3)): 34,
    (True, (3, 4, 6, 3)): 50,
    (True, (3, 4, 23, 3)): 101,
    (True, (3, 8, 36, 3)): 152,
}


class ArmMisconfigured(Refusal, RuntimeError):
    """The config contradicts its arm; the message names the setting to change."""


def frozen_or_eval_layers(model: nn.Module) -> List[str]:
    """Parameters with ``requires_grad=False`` and norms that stay in eval mode."""
    was_training = model.training
    model.train()  # mmdet's ResNet re-freezes its frozen stages here
    frozen = [n for n, p in model.named_parameters() if not p.requires_grad]
    frozen += [
        n
        for n, m in model.named_modules()
        if isinstance(m, (nn.modules.batchnorm._BatchNorm, nn.GroupNorm)) and not m.training
    ]
    model.train(was_training)
    return frozen


def frozen_stage_prefixes(
    frozen_stages: int, backbone: Optional[nn.Module] = None
) -> Tuple[str, ...]:
    """Module paths that ``frozen_stages`` may freeze: the backbone's own answer where
    it has one (``frozen_prefixes``, e.g. the VGG body's), else mmdet's ResNet's."""
    if frozen_stages < 0:
        return ()
    if hasattr(backbone, 'frozen_prefixes'):
        return tuple(f'backbone.{name}' for name in backbone.frozen_prefixes(frozen_stages))
    return tuple(f'backbone.{name}' for name in STEM) + tuple(
        f'backbone.layer{i}.' for i in range(1, frozen_stages + 1)
    )


def unwrapped(model: nn.Module) -> nn.Module:
    """The detector inside a DDP (or other mmengine) wrapper; the model itself otherwise."""
    return model.module if is_model_wrapper(model) else model


BLOCK = re.compile(r'layer(\d+)\.(\d+)\.')


def network_name(keys: Iterable[str]) -> str:
    """``'ResNet-50'`` for the state-dict keys of a ResNet-50 backbone, and so on."""
    blocks: Dict[int, int] = {}
    bottleneck = False
    for key in keys:
        match = BLOCK.match(key)
        if match:
            stage, block = int(match[1]), int(match[2])
            blocks[stage] = max(blocks.get(stage, 0), block + 1)
            bottleneck |= '.conv3.' in key
    counts = tuple(blocks[s] for s in sorted(blocks))
    depth = RESNET_DEPTHS.get((bottleneck, counts))
    return f'ResNet-{depth}' if depth else f'a network with {counts} blocks per stage'


def blocks_beyond(keys: Iterable[str], model_keys: Iterable[str]) -> List[str]:
    """The keys of residual blocks the model does not have (a deeper network's)."""
    model_blocks = {m[0] for m in map(BLOCK.match, model_keys) if m}
    return [k for k in keys if BLOCK.match(k) and BLOCK.match(k)[0] not in model_blocks]


def checkpoint_state(model: nn.Module) -> Dict[str, Tuple[int, ...]]:
    """Shapes of what a backbone checkpoint must provide: parameters, running stats."""
    state = {n: tuple(p.shape) for n, p in model.named_parameters()}
    state.update((n, tuple(b.shape)) for n, b in model.named_buffers() if n.endswith(STATISTICS))
    return state


@HOOKS.register_module()
class ArmGuardHook(Hook):
    """Check, before training starts, that a run is what its arm says it is.

    Both arms: no ``norm_eval=True`` and no norm with ``requires_grad=False`` (GN and
    SyncBN are fine-tuned in both). Scratch: no weights from anywhere (``load_from`` or
    any ``Pretrained`` init) and nothing frozen. Pretrained: at most the stem and res2
    frozen (``frozen_stages`` <= 1, Detectron's FREEZE_AT = 2; a backbone with a
    ``frozen_prefixes`` method, as the VGG body, says which layers that is), every
    ``Pretrained`` init of the model (the VGG head's fc6/fc7 too) naming the backbone's
    checkpoint, and a backbone checkpoint that exists and covers at least
    ``min_loaded_fraction`` of the backbone's parameters and running statistics with
    matching shapes; a checkpoint for another architecture would otherwise leave the
    backbone at random init with only a warning in the log, and one of a deeper network
    would be silently truncated.
    Resuming: only from a checkpoint of the same arm (each checkpoint carries its arm in
    ``meta['arm']``), checked before anything is loaded. The model is checked inside its
    DDP wrapper as in one process.

    Args:
        arm: ``'scratch'`` or ``'pretrained'``.
        min_loaded_fraction: Share of backbone tensors the checkpoint must provide.
    """

    priority = 'VERY_HIGH'

    def __init__(self, arm: str, min_loaded_fraction: float = 0.9) -> None:
        if arm not in ARMS:
            raise ValueError(f'ArmGuardHook: arm must be one of {ARMS}, got {arm!r}')
        self.arm = arm
        self.min_loaded_fraction = min_loaded_fraction

    def before_run(self, runner: 'Runner') -> None:
        """Refuse a config that contradicts the arm, before any weight is loaded."""
        cfg = runner.cfg
        errors = self._freezing_errors(cfg.model, runner.model)
        if self.arm == 'scratch':
            errors += self._loading_errors(cfg)
        else:
            errors += self._checkpoint_errors(cfg.model) + self._head_init_errors(runner.model)
        resumed = checkpoint_to_resume(runner)
        if resumed is not None:
            errors += self._resume_errors(resumed, runner.experiment_name)
        if errors:
            raise ArmMisconfigured(f'{self.arm} arm refused to start:\n- ' + '\n- '.join(errors))

    def before_train(self, runner: 'Runner') -> None:
        """Refuse a pretrained arm whose checkpoint does not fit its backbone.

        Runs after the Runner loaded or resumed: at iteration 0 nothing was resumed (a
        fresh work dir given ``--resume``, as requeue scripts start every attempt), so
        the backbone's weights are the ImageNet checkpoint's and are checked.
        """
        init_cfg = backbone_checkpoint(runner.cfg.model)
        if self.arm != 'pretrained' or runner.iter > 0 or init_cfg is None:
            return
        backbone = unwrapped(runner.model).backbone
        fraction, missing, extra = self.checkpoint_coverage(backbone, init_cfg)
        print_log(
            f'ArmGuardHook: the checkpoint provided {fraction:.1%} of the backbone '
            'parameters and running statistics.',
            logger='current',
        )
        source = init_cfg['checkpoint']
        if extra:
            model_keys = backbone.state_dict().keys()
            raise ArmMisconfigured(
                f'pretrained arm refused to start: {source} is of '
                f'{network_name(extra + list(model_keys))}, the backbone is '
                f'{network_name(model_keys)}: it carries {len(extra)} tensors of blocks the '
                f'model does not have (e.g. {extra[:3]}), which would be dropped. Point '
                'model.backbone.init_cfg.checkpoint at a checkpoint of this depth, or '
                "set model.backbone.depth to the checkpoint's."
            )
        if fraction < self.min_loaded_fraction:
            raise ArmMisconfigured(
                f'pretrained arm refused to start: {source} provides '
                f'only {fraction:.1%} of the backbone tensors (needs '
                f'{self.min_loaded_fraction:.0%}); missing e.g. {missing[:5]}. Point '
                'model.backbone.init_cfg.checkpoint at a checkpoint of this backbone, '
                'or fix model.backbone.init_cfg.prefix.'
            )

        for name, head in _vgg_heads(runner.model):
            missing = _fcs_missing(head)
            if missing:
                raise ArmMisconfigured(
                    f'pretrained arm refused to start: {head.fcs_init_cfg["checkpoint"]} has '
                    f"no fc6/fc7 that fit model.{name} (torchvision's classifier.0 and "
                    f'classifier.3; missing or of another shape: {missing}), which would keep '
                    "their random init. Point the head's fcs_init_cfg.checkpoint at "
                    "torchvision's VGG-16 file, or a file in its layout."
                )

    def before_save_checkpoint(self, runner: 'Runner', checkpoint: dict) -> None:
        """Record the arm in the checkpoint, so a resume can tell which arm wrote it."""
        checkpoint.setdefault('meta', {})['arm'] = self.arm

    @staticmethod
    def checkpoint_coverage(
        backbone: nn.Module, init_cfg: dict
    ) -> Tuple[float, List[str], List[str]]:
        """What a backbone checkpoint provides: the share of the backbone's parameters
        and running statistics it has with matching shapes, those it lacks, and its
        tensors of residual blocks the model does not have (a deeper network's; an
        ImageNet file's classifier ``fc`` is no block)."""
        checkpoint = CheckpointLoader.load_checkpoint(
            init_cfg['checkpoint'], map_location='cpu', logger='silent'
        )
        state = checkpoint.get('state_dict', checkpoint)
        prefix = init_cfg.get('prefix')
        if prefix:
            prefix = prefix if prefix.endswith('.') else prefix + '.'
            state = {k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}
        needed = checkpoint_state(backbone)
        missing = [
            k for k, shape in needed.items() if k not in state or tuple(state[k].shape) != shape
        ]
        extra = blocks_beyond(state, backbone.state_dict())
        return 1 - len(missing) / max(len(needed), 1), missing, extra

    def _resume_errors(self, path: str, experiment: str) -> List[str]:
        """An error if the checkpoint at ``path`` was written by another arm (or says not)."""
        if '://' not in path and not osp.isfile(path):
            return [
                f'--resume: checkpoint {path} does not exist. Pass an existing one; with '
                '--resume alone it is the one work_dir/last_checkpoint names: fix or delete '
                'that file.'
            ]
        meta = read_checkpoint(path).get('meta', {})
        arm = meta.get('arm') or self._arm_in_config(meta.get('cfg'))
        if arm == self.arm:
            return []
        written_by = (
            f'the {arm} arm' if arm else 'a run that does not say its arm (no ArmGuardHook)'
        )
        return [
            f'--resume {path}: that checkpoint was written by {written_by} '
            f'({meta.get("experiment_name", "unknown experiment")}); this run '
            f'({experiment}) is the {self.arm} arm. Resume from a checkpoint of this arm '
            '(or start it without --resume in a new --work-dir).'
        ]

    @staticmethod
    def _arm_in_config(text: Optional[str]) -> Optional[str]:
        """The arm named in a checkpoint's dumped config (checkpoints written before
        ``meta['arm']`` existed)."""
        if not text:
            return None
        try:
            hooks = Config.fromstring(text, '.py').get('default_hooks', {})
        except Exception:  # a config that no longer parses says nothing about its arm
            return None
        return hooks.get('arm_guard', {}).get('arm')

    def _freezing_errors(self, model_cfg: dict, model: nn.Module) -> List[str]:
        limit = MAX_FROZEN_STAGES[self.arm]
        errors = []
        for path, value in walk(model_cfg, 'model'):
            if path.endswith('.frozen_stages') and value > limit:
                errors.append(
                    f'{path}={value} freezes more than the {self.arm} arm may: set it to {limit}.'
                )
            if path.endswith('.norm_eval') and value:
                errors.append(f'{path}=True keeps norm layers in eval mode: set it to False.')
            if path.endswith('.requires_grad') and value is False:
                errors.append(f'{path}=False freezes parameters: set it to True.')
        detector = unwrapped(model)
        allowed = frozen_stage_prefixes(limit, getattr(detector, 'backbone', None))
        frozen = [n for n in frozen_or_eval_layers(detector) if not n.startswith(allowed)]
        if frozen and not errors:
            errors.append(
                f'{len(frozen)} parameters or norm layers stay frozen in train '
                f'mode (e.g. {frozen[:3]}) beyond what the {self.arm} arm may '
                f'freeze (frozen_stages <= {limit}).'
            )
        return errors

    @staticmethod
    def _loading_errors(cfg) -> List[str]:
        errors = []
        if cfg.get('load_from') and not cfg.get('resume'):
            errors.append(
                f'load_from={cfg.load_from!r} loads weights: set load_from=None '
                '(use --resume to continue this run).'
            )
        for path, value in walk(cfg.model, 'model'):
            if is_checkpoint_init(value):
                errors.append(f'{path} loads {value.get("checkpoint")!r}: set it to None.')
            if path.endswith('.pretrained') and value:
                errors.append(f'{path}={value!r} loads weights: set it to None.')
        return errors

    @staticmethod
    def _head_init_errors(model: nn.Module) -> List[str]:
        """The VGG head's fc6/fc7 start from ImageNet in the pretrained arm, as Faster
        R-CNN fine-tunes them."""
        return [
            f'model.{name}.fcs_init_cfg is None: the pretrained VGG arm fine-tunes fc6/fc7 '
            "from ImageNet as Faster R-CNN does; set it to dict(type='Pretrained', "
            "checkpoint=<the backbone's>)."
            for name, head in _vgg_heads(model)
            if not is_checkpoint_init(head.fcs_init_cfg)
        ]

    @staticmethod
    def _checkpoint_errors(model_cfg: dict) -> List[str]:
        init_cfg = backbone_checkpoint(model_cfg)
        if init_cfg is None or not init_cfg.get('checkpoint'):
            return [
                'model.backbone.init_cfg is not a Pretrained checkpoint: set '
                "init_cfg=dict(type='Pretrained', checkpoint=...) or use the scratch arm."
            ]
        path = init_cfg['checkpoint']
        if '://' not in path and not osp.isfile(path):
            return [
                f'model.backbone.init_cfg.checkpoint={path!r} does not exist: point '
                'it at the ImageNet checkpoint.'
            ]
        return [
            f"{where}.checkpoint={value.get('checkpoint')!r} is not the backbone's "
            f'{path!r}: the pretrained arm starts from one ImageNet model; point both at it.'
            for where, value in walk(model_cfg, 'model')
            if is_checkpoint_init(value)
            and where != 'model.backbone.init_cfg'
            and value.get('checkpoint') != path
        ]


def _vgg_heads(model: nn.Module) -> List[Tuple[str, VGGFCBBoxHead]]:
    """The model's VGG box heads, by dotted name."""
    return [
        (name, module)
        for name, module in unwrapped(model).named_modules()
        if isinstance(module, VGGFCBBoxHead)
    ]


def _fcs_missing(head: VGGFCBBoxHead) -> List[str]:
    """fc6/fc7 tensors the head's checkpoint lacks or has at another shape."""
    checkpoint = CheckpointLoader.load_checkpoint(
        head.fcs_init_cfg['checkpoint'], map_location='cpu', logger='silent'
    )
    state = torchvision_fcs(checkpoint.get('state_dict', checkpoint))
    return [
        key
        for key, value in head.shared_fcs.state_dict().items()
        if key not in state or state[key].shape != value.shape
    ]
