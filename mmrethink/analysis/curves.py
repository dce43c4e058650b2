"""AP against iterations or images seen, one line per arm (the paper's Figures 2-5)."""

from typing import Dict, List, Sequence

from .figures import plt, save_png_svg
from .runs import Run

METRICS = {'coco/bbox_mAP': 'bbox AP', 'coco/segm_mAP': 'mask AP'}
X_AXES = {'iter': 'iterations', 'images': 'images seen'}


def curve(run: Run, metric: str, x: str = 'iter') -> List[tuple]:
    """``(x, AP in percent)`` points of one run.

    An evaluation with no detection at all has no COCO metrics: it is drawn at AP 0,
    unless the run never reports the metric (a Faster R-CNN has no mask AP).
    """
    if not any(metric in r for r in run.records):
        return []
    return [(r[x], 100 * r.get(metric, 0.0)) for r in run.records if r.get(metric, 0.0) >= 0]


def plot_curves(
    runs: Sequence[Run], out_stem: str, x: str = 'iter', metrics: Dict[str, str] = METRICS
) -> List[str]:
    """Draw each metric in its own panel; LR drops dashed in the run's colour."""
    if x not in X_AXES:
        raise ValueError(f'x must be one of {list(X_AXES)}, got {x!r}')
    present = {m: t for m, t in metrics.items() if any(curve(r, m, x) for r in runs)}
    if not present:
        raise ValueError(f'none of the runs has any of the metrics {list(metrics)}')
    fig, axes = plt.subplots(1, len(present), figsize=(5.5 * len(present), 4.2), squeeze=False)
    for ax, (metric, title) in zip(axes[0], present.items()):
        for i, run in enumerate(runs):
            points = curve(run, metric, x)
            if not points:
                continue
            colour = f'C{i}'
            ax.plot(*zip(*points), marker='o', ms=3, color=colour, label=run.name)
            for drop in run.milestones:
                ax.axvline(_x_at_iter(run, drop, x), color=colour, ls='--', lw=0.8, alpha=0.6)
        ax.set_title(f'{title} (LR drops dashed)')
        ax.set_xlabel(X_AXES[x])
        ax.set_ylabel(f'{title} (%)')
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    return save_png_svg(fig, out_stem)


def _x_at_iter(run: Run, iteration: int, x: str) -> float:
    """Where an iteration falls on the x axis (images: interpolated between records)."""
    if x == 'iter':
        return iteration
    points = [(0, 0)] + [(r['iter'], r[x]) for r in run.records]
    for (i0, x0), (i1, x1) in zip(points, points[1:]):
        if i0 <= iteration <= i1:
            return x0 + (x1 - x0) * (iteration - i0) / max(i1 - i0, 1)
    i_last, x_last = points[-1]
    return x_last * iteration / max(i_last, 1)
