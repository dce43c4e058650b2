"""A finished or running experiment, read back from its work dir."""

import glob
import os.path as osp
from dataclasses import dataclass, field
from typing import Dict, List, Optional

from mmengine.config import Config

from mmrethink.utils.convergence_records import read_convergence


@dataclass
class Run:
    """The convergence records of one work dir and the config it dumped there."""

    name: str
    records: List[Dict]
    config: Optional[Config] = None
    milestones: List[int] = field(default_factory=list)

    @property
    def final(self) -> Dict:
        """The last evaluation record ({} before any)."""
        return self.records[-1] if self.records else {}


def _dumped_config(work_dir: str) -> Optional[str]:
    configs = sorted(glob.glob(osp.join(work_dir, '*.py')))
    return configs[0] if configs else None


def load_run(path: str, name: Optional[str] = None) -> Run:
    """Read a work dir (or its ``convergence.jsonl``); name it after its config."""
    jsonl = path if path.endswith('.jsonl') else osp.join(path, 'convergence.jsonl')
    if not osp.isfile(jsonl):
        raise FileNotFoundError(
            f'{jsonl} not found: is {path} a work dir of a config with ConvergenceHook '
            '(every mmrethink config has it) that reached an evaluation?'
        )
    config_path = _dumped_config(osp.dirname(jsonl))
    config = Config.fromfile(config_path) if config_path else None
    milestones = []
    if config is not None:
        schedulers = config.get('param_scheduler', [])
        for scheduler in schedulers if isinstance(schedulers, list) else [schedulers]:
            milestones += list(scheduler.get('milestones', []))
    if name is None:
        name = (
            osp.splitext(osp.basename(config_path))[0]
            if config_path
            else osp.basename(osp.dirname(osp.abspath(jsonl)))
        )
    return Run(name, list(read_convergence(jsonl)), config, sorted(milestones))
