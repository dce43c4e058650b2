"""AP against iterations or images seen (the paper's Figures 2-5).

:func:`plot_curves` draws any runs, one line each (tools/plot_curves.py);
:func:`plot_pairs` draws paired experiments, scratch and pretrained arm of each pair,
with the window the convergence rule judged shaded on each curve and each arm's LR
drops marked on that arm's own curve.
"""

from typing import Dict, List, Sequence

import numpy as np
from matplotlib.axes import Axes

from .convergence import convergence
from .figures import panels, save_png_svg
from .runs import BOX_AP, KEYPOINT_AP, MASK_AP, Run, ap_points

METRICS = {BOX_AP: 'bbox AP', MASK_AP: 'mask AP', KEYPOINT_AP: 'keypoint AP'}
X_AXES = {'iter': 'iterations', 'images': 'images seen'}
ARM_COLOURS = {'scratch': 'C0', 'pretrained': 'C1'}
PAIR_STYLES = (dict(ls='-', marker='o'), dict(ls=':', marker='s'), dict(ls='--', marker='^'))


def curve(run: Run, metric: str, x: str = 'iter') -> List[tuple]:
    """``(x, AP in points)`` of every evaluation; none if the run never reports ``metric``."""
    if not run.reports(metric):
        return []
    return [(r[x], ap_points(r, metric)) for r in run.records]


def _present(runs: Sequence[Run], metrics: Dict[str, str]) -> Dict[str, str]:
    present = {m: t for m, t in metrics.items() if any(r.reports(m) for r in runs)}
    if not present:
        raise ValueError(f'none of the runs has any of the metrics {list(metrics)}')
    return present


def _label_axes(ax: Axes, title: str, x: str) -> None:
    ax.set_xlabel(X_AXES[x])
    ax.set_ylabel(f'{title} (%)')
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc='lower right')  # AP curves rise: late and low stays empty


def plot_curves(
    runs: Sequence[Run], out_stem: str, x: str = 'iter', metrics: Dict[str, str] = METRICS
) -> List[str]:
    """Draw each metric in its own panel; LR drops dashed in the run's colour."""
    if x not in X_AXES:
        raise ValueError(f'x must be one of {list(X_AXES)}, got {x!r}')
    present = _present(runs, metrics)
    fig, axes = panels(len(present), 5.5, 4.2)
    for ax, (metric, title) in zip(axes, present.items()):
        for i, run in enumerate(runs):
            points = curve(run, metric, x)
            if not points:
                continue
            colour = f'C{i}'
            ax.plot(*zip(*points), marker='o', ms=3, color=colour, label=run.name)
            for drop in run.milestones:
                ax.axvline(_x_at_iter(run, drop, x), color=colour, ls='--', lw=0.8, alpha=0.6)
        ax.set_title(f'{title} (LR drops dashed)')
        _label_axes(ax, title, x)
    return save_png_svg(fig, out_stem)


def plot_pairs(pairs: Dict[str, Dict[str, Run]], out_stem: str) -> List[str]:
    """``pairs[pair][arm]`` against iterations: arm by colour, pair by line style, and on
    each curve the window the convergence rule judged, drawn thick, and that arm's own LR
    drops, a down-pointing triangle on its curve (arms of a pair drop at other
    iterations when each ends its full-LR stage by the rule)."""
    runs = [run for arms in pairs.values() for run in arms.values()]
    present = _present(runs, METRICS)
    fig, axes = panels(len(present), 6.5, 4.6)
    for ax, (metric, title) in zip(axes, present.items()):
        for style, (pair, arms) in zip(PAIR_STYLES, pairs.items()):
            for arm, run in arms.items():
                points = curve(run, metric)
                if not points:
                    continue
                verdict = convergence(run, metric)
                colour = ARM_COLOURS[arm]
                ax.plot(
                    *zip(*points),
                    ms=4,
                    color=colour,
                    **style,
                    label=f'{arm}, {pair}: {verdict.describe()}',
                )
                judged = [(i, a) for i, a in points if verdict.window[0] <= i <= verdict.window[1]]
                if judged:
                    ax.plot(*zip(*judged), color=colour, lw=4, alpha=0.35)
                iters, aps = zip(*points)
                drops = [d for d in run.milestones if iters[0] <= d <= iters[-1]]
                if drops:
                    ax.plot(
                        drops,
                        np.interp(drops, iters, aps),
                        ls='none',
                        marker='v',
                        ms=9,
                        color=colour,
                        markeredgecolor='black',
                    )
        judged = '' if metric == BOX_AP else ' (the answers judge box AP)'
        # Two lines: one would run past a panel's edge.
        ax.set_title(f'{title}{judged}\nLR drops: triangles on each arm, convergence window thick')
        _label_axes(ax, title, 'iter')
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
