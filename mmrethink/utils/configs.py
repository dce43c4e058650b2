"""Reading mmengine configs: one walker, one answer to "does this init load weights?"."""

from typing import TYPE_CHECKING, Any, Iterator, List, Optional, Tuple

if TYPE_CHECKING:
    from mmengine.config import Config

# The dataloaders of a train-val-test config, each with its own dataset and pipeline.
DATALOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def read_config(name: str) -> 'Config':
    """A config file, or a package's one named ``pkg::folder/file.py`` (mim's form)."""
    from mmengine.config import Config
    from mmengine.hub import get_config

    return get_config(name) if '::' in name else Config.fromfile(name)


def as_list(entry: Any) -> List[Any]:
    """A config entry that may be one item or a list of them (``param_scheduler``,
    a cascade's ``bbox_head``), as a list."""
    return list(entry) if isinstance(entry, (list, tuple)) else [entry]


def walk(node: Any, path: str = '') -> Iterator[Tuple[str, Any]]:
    """Yield ``(dotted path, value)`` for every entry of a nested dict/list config."""
    if isinstance(node, dict):
        entries = node.items()
    elif isinstance(node, (list, tuple)):
        entries = enumerate(node)
    else:
        return
    for key, value in entries:
        child = f'{path}.{key}' if path else str(key)
        yield child, value
        yield from walk(value, child)


def typed_dicts(node: Any, *types: str) -> Iterator[dict]:
    """Every dict inside ``node`` whose ``type`` is one of ``types``."""
    for _, value in walk([node]):
        if isinstance(value, dict) and value.get('type') in types:
            yield value


def is_checkpoint_init(init_cfg: Any) -> bool:
    """Whether an ``init_cfg`` loads weights (mmengine's ``Pretrained`` initializer)."""
    return isinstance(init_cfg, dict) and init_cfg.get('type') == 'Pretrained'


def backbone_checkpoint(model_cfg: dict) -> Optional[dict]:
    """The backbone's ``Pretrained`` init_cfg, or None for a scratch backbone."""
    init_cfg = model_cfg.get('backbone', {}).get('init_cfg')
    return init_cfg if is_checkpoint_init(init_cfg) else None
