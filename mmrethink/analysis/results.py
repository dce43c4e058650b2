"""Final metrics of runs beside the published numbers (reference_results.yml)."""

import os.path as osp
from typing import Dict, Optional, Sequence

from mmengine.fileio import load

from .runs import BOX_AP, KEYPOINT_AP, MASK_AP, Run, ap_points

REFERENCE_FILE = osp.join(osp.dirname(__file__), 'reference_results.yml')
# The first metric a run reports: COCO box/mask AP, or VOC mAP (AP50); all in [0, 1].
BOX_KEYS = (BOX_AP, 'pascal_voc/mAP')
MASK_KEYS = (MASK_AP,)
KEYPOINT_KEYS = (KEYPOINT_AP,)


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
    """One row per run: last evaluation's box/mask AP, ``source``'s numbers, difference;
    keypoint AP too when a run reports it (Keypoint R-CNN)."""
    reference = load_reference() if reference is None else reference
    columns = [('box', BOX_KEYS), ('mask', MASK_KEYS)]
    if any(run.reports(KEYPOINT_AP) for run in runs):
        columns.append(('keypoint', KEYPOINT_KEYS))
    names = [name for name, _ in columns]
    header = ['config', 'iterations', *(f'{n} AP' for n in names)]
    header += [f'{source} {n}' for n in names] + [f'Δ {n}' for n in names]
    lines = ['| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
    for run in runs:
        ours = [_last_ap(run, keys) for _, keys in columns]
        quoted = reference['results'].get(run.name, {}).get(source, {})
        theirs = [quoted.get(name) for name in names]
        cells = [run.name, str(run.last_evaluation.get('iter', '—'))]
        cells += [_fmt(v) for v in ours] + [_fmt(v) for v in theirs]
        cells += [_diff(a, b) for a, b in zip(ours, theirs)]
        lines.append('| ' + ' | '.join(cells) + ' |')
    lines.append('')
    lines.append(
        f'Measured: last evaluation in each work dir. Quoted ({source}): '
        f'{reference["sources"].get(source, source)}.'
    )
    return '\n'.join(lines)
