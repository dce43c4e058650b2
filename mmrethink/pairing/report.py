"""The answer of a paired experiment: figures, tables and a summary from its two runs."""

import os.path as osp
from typing import Dict, List

from mmrethink.analysis.accounting import IMAGENET, arm_samples, plot_samples, samples_table
from mmrethink.analysis.curves import plot_curves
from mmrethink.analysis.results import results_table
from mmrethink.analysis.runs import Run

METRICS = (('coco/bbox_mAP', 'box'), ('coco/segm_mAP', 'mask'))


def pair_summary(scratch: Run, pretrained: Run) -> str:
    """Finals, the gap at each evaluation, and whether (and when) scratch caught up.

    An evaluation without a single detection has no COCO metrics; it counts as AP 0.
    """
    lines = []
    for arm, run in (('scratch', scratch), ('pretrained', pretrained)):
        last = run.final
        lines.append(
            f'- {arm}: box AP {100 * last.get("coco/bbox_mAP", 0):.1f}'
            + (
                f', mask AP {100 * last.get("coco/segm_mAP", 0):.1f}'
                if any('coco/segm_mAP' in r for r in run.records)
                else ''
            )
            + f' after {last.get("iter", 0)} iterations'
        )
    for metric, label in METRICS:
        if not any(metric in r for r in scratch.records + pretrained.records):
            continue
        gaps = [
            (r['iter'], 100 * (p.get(metric, 0) - r.get(metric, 0)))
            for r, p in zip(scratch.records, pretrained.records)
        ]
        lines.append(
            f'- {label} AP gap (pretrained - scratch) at each evaluation: '
            + ', '.join(f'{i}: {g:+.1f}' for i, g in gaps)
        )
        target = 100 * pretrained.final.get(metric, 0)
        best = max(scratch.records, key=lambda r: r.get(metric, 0))
        caught = next(
            (r['iter'] for r in scratch.records if 100 * r.get(metric, 0) >= target), None
        )
        if caught is not None:
            lines.append(
                f"- scratch reached the pretrained arm's final {label} AP "
                f'({target:.1f}) at iteration {caught}.'
            )
        else:
            lines.append(
                f"- scratch reached {100 * best.get(metric, 0):.1f} of the pretrained arm's "
                f'{target:.1f} {label} AP at best (iteration {best["iter"]}); it did not catch '
                f'up within {scratch.final.get("iter", 0)} iterations.'
            )
    return '\n'.join(lines)


def write_report(
    runs: Dict[str, Run],
    out_dir: str,
    train_ann: str,
    total_batch: int,
    pre_training: Dict[str, float] = IMAGENET,
    title: str = 'Paired experiment',
    preamble: str = '',
) -> List[str]:
    """Curves (iterations, images seen), results and samples tables, and summary.md."""
    figures = plot_curves(list(runs.values()), osp.join(out_dir, 'curves'))
    figures += plot_curves(list(runs.values()), osp.join(out_dir, 'curves_images'), x='images')
    arms = [
        arm_samples(run.config, arm, train_ann, total_batch, pre_training)
        for arm, run in runs.items()
    ]
    figures += plot_samples(arms, osp.join(out_dir, 'samples'))
    tables = dict(results=results_table(list(runs.values())), samples=samples_table(arms))
    summary = pair_summary(runs['scratch'], runs['pretrained'])
    for name, table in tables.items():
        with open(osp.join(out_dir, f'{name}.md'), 'w') as f:
            f.write(table + '\n')
    with open(osp.join(out_dir, 'summary.md'), 'w') as f:
        f.write(
            f'# {title} (measured)\n\n{preamble}{summary}\n\n## Results\n\n'
            f'{tables["results"]}\n\n## Samples seen\n\n{tables["samples"]}\n'
        )
    return figures + [osp.join(out_dir, f'{n}.md') for n in (*tables, 'summary')]
