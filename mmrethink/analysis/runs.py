"""A finished or running experiment, read back from its work dir."""

import glob
import json
import os.path as osp
from dataclasses import dataclass, field
from typing import Dict, List, Optional

from mmengine.config import Config

from mmrethink.engine.hooks.until_converged_hook import SCHEDULE_FILE
from mmrethink.utils.configs import as_list
from mmrethink.utils.convergence_records import read_convergence


@dataclass
class Run:
    """The convergence records of one work dir and the config it dumped there."""

    name: str
    records: List[Dict]
    config: Optional[Config] = None
    milestones: List[int] = field(default_factory=list)

    @property
    def last_evaluation(self) -> Dict:
        """The last evaluation record ({} before any)."""
        return self.records[-1] if self.records else {}

    @property
    def first_lr_drop(self) -> int:
        """Where the full-LR stage ends: the first LR drop, or the last evaluation."""
        return self.milestones[0] if self.milestones else self.last_evaluation.get('iter', 0)

    def reports(self, metric: str) -> bool:
        """Whether any evaluation of the run wrote ``metric`` (a Faster R-CNN has no mask AP)."""
        return any(metric in record for record in self.records)

    def at(self, iteration: int) -> Optional[Dict]:
        """The evaluation record of ``iteration``, if the run evaluated there."""
        return next((r for r in self.records if r['iter'] == iteration), None)


BOX_AP, MASK_AP = 'coco/bbox_mAP', 'coco/segm_mAP'  # the keys CocoMetric writes
KEYPOINT_AP = 'coco/keypoints_mAP'  # CocoKeypointMetric's


def ap_points(record: Dict, metric: str) -> float:
    """One evaluation's AP in points: the one reading of AP in the pack.

    mmdet writes no COCO metric when nothing at all was detected, and COCO writes -1
    where it had nothing to score; both mean the arm scored nothing there, so both count
    as 0. Whether a run has the metric at all is :meth:`Run.reports`.
    """
    return 100 * max(record.get(metric, 0.0), 0.0)


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
    chosen = osp.join(osp.dirname(jsonl), SCHEDULE_FILE)
    if osp.isfile(chosen):  # an until-converged run: the drops it chose, not its cap's
        with open(chosen) as f:
            milestones = list(json.load(f)['milestones'])
    elif config is not None:
        schedulers = config.get('param_scheduler', [])
        for scheduler in as_list(schedulers):
            milestones += list(scheduler.get('milestones', []))
    if name is None:
        name = (
            osp.splitext(osp.basename(config_path))[0]
            if config_path
            else osp.basename(osp.dirname(osp.abspath(jsonl)))
        )
    return Run(name, list(read_convergence(jsonl)), config, sorted(milestones))
