"""Refuse runs that would silently break the scratch-versus-pretrained comparison."""
import os.path as osp
from typing import Any, Iterator, List, Optional, Tuple

import torch.nn as nn
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.runner.checkpoint import _load_checkpoint

from mmrethink.registry import HOOKS

ARMS = ('scratch', 'pretrained')


class ArmMisconfigured(RuntimeError):
    """The config contradicts its arm; the message names the setting to change."""


def _find(cfg: Any, path: str = 'model') -> Iterator[Tuple[str, Any]]:
    """Yield ``(dotted path, value)`` of every entry of a nested config."""
    if isinstance(cfg, dict):
        for key, value in cfg.items():
            yield f'{path}.{key}', value
            yield from _find(value, f'{path}.{key}')
    elif isinstance(cfg, (list, tuple)):
        for i, value in enumerate(cfg):
            yield from _find(value, f'{path}.{i}')


def backbone_checkpoint(model_cfg: dict) -> Optional[dict]:
    init_cfg = model_cfg.get('backbone', {}).get('init_cfg')
    if isinstance(init_cfg, dict) and init_cfg.get('type') == 'Pretrained':
        return init_cfg
    return None


def frozen_or_eval_layers(model: nn.Module) -> List[str]:
    """Parameters with ``requires_grad=False`` and norms that stay in eval mode."""
    was_training = model.training
    model.train()  # mmdet's ResNet puts BN back in eval mode here when norm_eval=True
    frozen = [n for n, p in model.named_parameters() if not p.requires_grad]
    frozen += [n for n, m in model.named_modules()
               if isinstance(m, (nn.modules.batchnorm._BatchNorm, nn.GroupNorm))
               and not m.training]
    model.train(was_training)
    return frozen


@HOOKS.register_module()
class ArmGuardHook(Hook):
    """Check, before training starts, that a run is what its arm says it is.

    Both arms: nothing frozen (``frozen_stages=-1``, no ``requires_grad=False``, no
    ``norm_eval=True``). Scratch: no weights from anywhere (``load_from`` or any
    ``Pretrained`` init). Pretrained: a backbone checkpoint that exists and covers at
    least ``min_loaded_fraction`` of the backbone's tensors with matching shapes; a
    checkpoint for another architecture would otherwise leave the backbone at random
    init with only a warning in the log.

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

    def before_run(self, runner) -> None:
        cfg = runner.cfg
        errors = self._frozen(cfg.model, runner.model)
        if self.arm == 'scratch':
            errors += self._loaded_weights(cfg)
        else:
            errors += self._checkpoint_missing(cfg.model)
        if errors:
            raise ArmMisconfigured(f'{self.arm} arm refused to start:\n- ' + '\n- '.join(errors))

    def before_train(self, runner) -> None:
        init_cfg = backbone_checkpoint(runner.cfg.model)
        if self.arm != 'pretrained' or runner.cfg.get('resume') or init_cfg is None:
            return
        fraction, missing = self.loaded_fraction(runner.model, init_cfg)
        print_log(f'ArmGuardHook: the checkpoint provided {fraction:.1%} of the backbone '
                  'tensors.', logger='current')
        if fraction < self.min_loaded_fraction:
            raise ArmMisconfigured(
                f'pretrained arm refused to start: {init_cfg["checkpoint"]} provides '
                f'only {fraction:.1%} of the backbone tensors (needs '
                f'{self.min_loaded_fraction:.0%}); missing e.g. {missing[:5]}. Point '
                'model.backbone.init_cfg.checkpoint at a checkpoint of this backbone, '
                'or fix model.backbone.init_cfg.prefix.')

    @staticmethod
    def loaded_fraction(model: nn.Module, init_cfg: dict) -> Tuple[float, List[str]]:
        """Share of backbone tensors that ``init_cfg``'s checkpoint has, same shape."""
        checkpoint = _load_checkpoint(init_cfg['checkpoint'], map_location='cpu',
                                      logger='silent')
        state = checkpoint.get('state_dict', checkpoint)
        prefix = init_cfg.get('prefix')
        if prefix:
            prefix = prefix if prefix.endswith('.') else prefix + '.'
            state = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
        backbone = getattr(model, 'module', model).backbone.state_dict()
        missing = [k for k, v in backbone.items()
                   if k not in state or tuple(state[k].shape) != tuple(v.shape)]
        return 1 - len(missing) / max(len(backbone), 1), missing

    @staticmethod
    def _frozen(model_cfg: dict, model: nn.Module) -> List[str]:
        errors = []
        for path, value in _find(model_cfg):
            if path.endswith('.frozen_stages') and value >= 0:
                errors.append(f'{path}={value} freezes layers: set it to -1.')
            if path.endswith('.norm_eval') and value:
                errors.append(f'{path}=True keeps norm layers in eval mode: set it to False.')
            if path.endswith('.requires_grad') and value is False:
                errors.append(f'{path}=False freezes parameters: set it to True.')
        frozen = frozen_or_eval_layers(model)
        if frozen and not errors:
            errors.append(f'{len(frozen)} parameters or norm layers stay frozen in train '
                          f'mode (e.g. {frozen[:3]}): nothing is frozen in either arm.')
        return errors

    @staticmethod
    def _loaded_weights(cfg) -> List[str]:
        errors = []
        if cfg.get('load_from') and not cfg.get('resume'):
            errors.append(f'load_from={cfg.load_from!r} loads weights: set load_from=None '
                          '(use --resume to continue this run).')
        for path, value in _find(cfg.model):
            if isinstance(value, dict) and value.get('type') == 'Pretrained':
                errors.append(f'{path} loads {value.get("checkpoint")!r}: set it to None.')
            if path.endswith('.pretrained') and value:
                errors.append(f'{path}={value!r} loads weights: set it to None.')
        return errors

    @staticmethod
    def _checkpoint_missing(model_cfg: dict) -> List[str]:
        init_cfg = backbone_checkpoint(model_cfg)
        if init_cfg is None or not init_cfg.get('checkpoint'):
            return ['model.backbone.init_cfg is not a Pretrained checkpoint: set '
                    "init_cfg=dict(type='Pretrained', checkpoint=...) or use the scratch arm."]
        path = init_cfg['checkpoint']
        if '://' not in path and not osp.isfile(path):
            return [f'model.backbone.init_cfg.checkpoint={path!r} does not exist: point '
                    'it at the ImageNet checkpoint.']
        return []
