"""mmrethink's registries: children of every registry in ``mmdet/registry.py``.

A type registered here resolves in two ways:

* under the ``mmrethink`` scope (``type='mmrethink.X'``, ``_scope_='mmrethink'`` or
  ``default_scope='mmrethink'``), through the child registry itself, which falls back
  to mmdet and mmengine for everything else;
* as a plain ``type='X'`` under mmdet's ``default_scope='mmdet'``, because each child
  also registers the class in its parent. A name that mmdet already uses is refused at
  import time instead of shadowing mmdet's class.
"""

from typing import Callable, List, Optional, Type, Union

from mmdet import registry as mmdet_registry
from mmengine.registry import Registry

SCOPE = 'mmrethink'


class PackRegistry(Registry):
    """A child registry that also registers its modules in the parent (mmdet's)."""

    def register_module(
        self,
        name: Optional[Union[str, List[str]]] = None,
        force: bool = False,
        module: Optional[Type] = None,
    ) -> Union[Type, Callable]:
        """Register ``module`` here and in the parent, as a call or a decorator."""
        if module is not None:
            self.parent.register_module(name=name, force=force, module=module)
            return super().register_module(name=name, force=force, module=module)

        def register(cls: Type) -> Type:
            return self.register_module(name=name, force=force, module=cls)

        return register


def _child(mmdet_node: Registry, location: str) -> PackRegistry:
    return PackRegistry(
        mmdet_node.name, parent=mmdet_node, scope=SCOPE, locations=[f'{SCOPE}.{location}']
    )


RUNNERS = _child(mmdet_registry.RUNNERS, 'engine')
RUNNER_CONSTRUCTORS = _child(mmdet_registry.RUNNER_CONSTRUCTORS, 'engine')
LOOPS = _child(mmdet_registry.LOOPS, 'engine')
HOOKS = _child(mmdet_registry.HOOKS, 'engine.hooks')
DATASETS = _child(mmdet_registry.DATASETS, 'datasets')
DATA_SAMPLERS = _child(mmdet_registry.DATA_SAMPLERS, 'datasets')
TRANSFORMS = _child(mmdet_registry.TRANSFORMS, 'datasets')
MODELS = _child(mmdet_registry.MODELS, 'models')
MODEL_WRAPPERS = _child(mmdet_registry.MODEL_WRAPPERS, 'models')
WEIGHT_INITIALIZERS = _child(mmdet_registry.WEIGHT_INITIALIZERS, 'models')
OPTIMIZERS = _child(mmdet_registry.OPTIMIZERS, 'engine')
OPTIM_WRAPPERS = _child(mmdet_registry.OPTIM_WRAPPERS, 'engine')
OPTIM_WRAPPER_CONSTRUCTORS = _child(mmdet_registry.OPTIM_WRAPPER_CONSTRUCTORS, 'engine')
PARAM_SCHEDULERS = _child(mmdet_registry.PARAM_SCHEDULERS, 'engine.schedulers')
METRICS = _child(mmdet_registry.METRICS, 'evaluation')
EVALUATOR = _child(mmdet_registry.EVALUATOR, 'evaluation')
TASK_UTILS = _child(mmdet_registry.TASK_UTILS, 'models')
VISUALIZERS = _child(mmdet_registry.VISUALIZERS, 'engine')
VISBACKENDS = _child(mmdet_registry.VISBACKENDS, 'engine')
LOG_PROCESSORS = _child(mmdet_registry.LOG_PROCESSORS, 'engine')
