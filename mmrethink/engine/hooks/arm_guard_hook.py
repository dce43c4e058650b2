"""Refuse runs that would silently break the scratch-versus-pretrained comparison."""

import os.path as osp
from typing import TYPE_CHECKING, Dict, List, Tuple

import torch.nn as nn
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.runner import CheckpointLoader

from mmrethink.registry import HOOKS
from mmrethink.utils.configs import backbone_checkpoint, is_checkpoint_init, walk

if TYPE_CHECKING:
    from mmengine.runner import Runner

ARMS = ('scratch', 'pretrained')
# What each arm may freeze, as mmdet's ResNet.frozen_stages: -1 nothing; 1 the stem and
# res2 (Detectron's default TRAIN.FREEZE_AT = 2, which its GN fine-tuning runs used;
# its scratch runs set FREEZE_AT 0, see configs/rethinking/README.md).
MAX_FROZEN_STAGES = dict(scratch=-1, pretrained=1)
STEM = ('conv1', 'norm1', 'bn1', 'gn1', 'stem')
# The state a checkpoint must provide: learned tensors and BN running statistics, not
# counters such as num_batches_tracked (absent from torchvision's ImageNet files).
STATISTICS = ('running_mean', 'running_var')


class ArmMisconfigured(RuntimeError):
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


def frozen_stage_prefixes(frozen_stages: int) -> Tuple[str, ...]:
    """Module paths that ``frozen_stages`` of mmdet's ResNet may freeze."""
    if frozen_stages < 0:
        return ()
    return tuple(f'backbone.{name}' for name in STEM) + tuple(
        f'backbone.layer{i}.' for i in range(1, frozen_stages + 1)
    )


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
    frozen (``frozen_stages`` <= 1, Detectron's FREEZE_AT = 2), and a backbone
    checkpoint that exists and covers at least ``min_loaded_fraction`` of the
    backbone's parameters and running statistics with matching shapes; a checkpoint
    for another architecture would otherwise leave the backbone at random init with
    only a warning in the log.

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
        errors = self._frozen(cfg.model, runner.model)
        if self.arm == 'scratch':
            errors += self._loaded_weights(cfg)
        else:
            errors += self._checkpoint_missing(cfg.model)
        if errors:
            raise ArmMisconfigured(f'{self.arm} arm refused to start:\n- ' + '\n- '.join(errors))

    def before_train(self, runner: 'Runner') -> None:
        """Refuse a pretrained arm whose checkpoint does not fit its backbone."""
        init_cfg = backbone_checkpoint(runner.cfg.model)
        if self.arm != 'pretrained' or runner.cfg.get('resume') or init_cfg is None:
            return
        fraction, missing = self.loaded_fraction(runner.model, init_cfg)
        print_log(
            f'ArmGuardHook: the checkpoint provided {fraction:.1%} of the backbone '
            'parameters and running statistics.',
            logger='current',
        )
        if fraction < self.min_loaded_fraction:
            raise ArmMisconfigured(
                f'pretrained arm refused to start: {init_cfg["checkpoint"]} provides '
                f'only {fraction:.1%} of the backbone tensors (needs '
                f'{self.min_loaded_fraction:.0%}); missing e.g. {missing[:5]}. Point '
                'model.backbone.init_cfg.checkpoint at a checkpoint of this backbone, '
                'or fix model.backbone.init_cfg.prefix.'
            )

    @staticmethod
    def loaded_fraction(model: nn.Module, init_cfg: dict) -> Tuple[float, List[str]]:
        """Share of the backbone's parameters and running stats the checkpoint has."""
        checkpoint = CheckpointLoader.load_checkpoint(
            init_cfg['checkpoint'], map_location='cpu', logger='silent'
        )
        state = checkpoint.get('state_dict', checkpoint)
        prefix = init_cfg.get('prefix')
        if prefix:
            prefix = prefix if prefix.endswith('.') else prefix + '.'
            state = {k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}
        needed = checkpoint_state(getattr(model, 'module', model).backbone)
        missing = [
            k for k, shape in needed.items() if k not in state or tuple(state[k].shape) != shape
        ]
        return 1 - len(missing) / max(len(needed), 1), missing

    def _frozen(self, model_cfg: dict, model: nn.Module) -> List[str]:
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
        allowed = frozen_stage_prefixes(limit)
        frozen = [n for n in frozen_or_eval_layers(model) if not n.startswith(allowed)]
        if frozen and not errors:
            errors.append(
                f'{len(frozen)} parameters or norm layers stay frozen in train '
                f'mode (e.g. {frozen[:3]}) beyond what the {self.arm} arm may '
                f'freeze (frozen_stages <= {limit}).'
            )
        return errors

    @staticmethod
    def _loaded_weights(cfg) -> List[str]:
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
    def _checkpoint_missing(model_cfg: dict) -> List[str]:
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
        return []
