"""Final metrics of runs beside the published numbers (reference_results.yml)."""

import os.path as osp
from typing import Dict, Optional, Sequence

from mmengine.fileio import load

from .runs import BOX_AP, MASK_AP, Run, ap_points

REFERENCE_FILE = osp.join(osp.dirname(__file__), 'reference_results.yml')
# The first metric a run reports: COCO box/mask AP, or VOC mAP (AP50); all in [0, 1].
BOX_KEYS = (BOX_AP, 'pascal_voc/mAP')
MASK_KEYS = (MASK_AP,)


def load_reference(path: str = REFERENCE_FILE) -> Dict:
    """The published numbers (paper, MMDetection, Detectron2) by config name."""
    return load(path)


def _last_ap(run: Run, keys: Sequence[str]) -> Optional[float]:
    """The last evaluation's AP under the first of ``keys`` the run reports, else None."""
    key = next((k for k in keys if run.reports(k)), None)
    return None if key is None else ap_points(run.last_evaluation, key)


def _fmt(value: Optional[float]) -> str:
    return '—' if value is None else f'{value:.1f}'


def _diff(ours: Optional[float], theirs: Optional[float]) -> str:
    return '—' if ours is None or theirs is None else f'{ours - theirs:+.1f}'


def results_table(
    runs: Sequence[Run], reference: Optional[Dict] = None, source: str = 'paper'
) -> str:
    """One row per run: last evaluation's box/mask AP, ``source``'s numbers, difference."""
    reference = load_reference() if reference is None else reference
    header = (
        f'| config | iterations | box AP | mask AP | {source} box | {source} mask '
        '| Δ box | Δ mask |'
    )
    lines = [header, '|---|---|---|---|---|---|---|---|']
    for run in runs:
        last = run.last_evaluation
        box, mask = _last_ap(run, BOX_KEYS), _last_ap(run, MASK_KEYS)
        quoted = reference['results'].get(run.name, {}).get(source, {})
        lines.append(
            f'| {run.name} | {last.get("iter", "—")} | {_fmt(box)} | {_fmt(mask)} | '
            f'{_fmt(quoted.get("box"))} | {_fmt(quoted.get("mask"))} | '
            f'{_diff(box, quoted.get("box"))} | {_diff(mask, quoted.get("mask"))} |'
        )
    lines.append('')
    lines.append(
        f'Measured: last evaluation in each work dir. Quoted ({source}): '
        f'{reference["sources"].get(source, source)}.'
    )
    return '\n'.join(lines)
