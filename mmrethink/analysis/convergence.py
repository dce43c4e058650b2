"""Has a run converged? The one rule the pack judges it by, fixed before any result.

An arm has converged when, over the last quarter of its full-LR stage (up to the first
LR drop), its AP stopped rising: the least-squares line through the evaluations of that
quarter rises by less than :data:`TOLERANCE` points across it. The paper asks the same
question by doubling the schedule (5x against 6x changes final AP by less than a point,
Table 1); the trend over the end of the full-LR stage asks it of a single run, where a
longer schedule would still help. The stages after the drops cannot answer it: at
1/10 and 1/100 of the LR, AP hardly moves whether or not the arm had converged. A line
through several evaluations rather than a difference of two: at the full LR one
evaluation on a small validation set moves by 2-3 points from the next. The rule does
not allow for that noise: it can make a flat arm look still rising (the answer is then
"undecided") or hide a small rise; the rise's standard error, reported beside it, says
how far to trust a verdict.
"""

from dataclasses import dataclass
from typing import Optional, Tuple

from mmrethink.utils.convergence_rule import (
    MIN_EVALUATIONS,
    TOLERANCE,
    WINDOW,
    judged_window,
    rise_across,
)

from .runs import BOX_AP, Run, ap_points

__all__ = [
    'MIN_EVALUATIONS',
    'TOLERANCE',
    'WINDOW',
    'Convergence',
    'convergence',
    'judged_window',
]


@dataclass(frozen=True)
class Convergence:
    """The rule's verdict on one run and metric; ``converged`` None: not judged."""

    converged: Optional[bool]
    rise: Optional[float]  # AP points the fitted line rises across the window
    noise: Optional[float]  # the rise's standard error, from the scatter around the line
    window: Tuple[int, int]  # iterations
    evaluations: int  # in the window
    scatter: Optional[float] = None  # one evaluation's standard deviation around the line

    def describe(self) -> str:
        """``converged (+0.4 ± 0.6 AP over 1800-2400)`` or why not."""
        span = f'{self.window[0]}-{self.window[1]}'
        if self.converged is None:
            return (
                f'not judged: {self.evaluations} evaluation(s) in {span}, the last quarter of '
                f'the full-LR stage (the rule needs {MIN_EVALUATIONS})'
            )
        word = 'converged' if self.converged else 'still rising'
        return f'{word} ({self.rise:+.1f} ± {self.noise:.1f} AP over {span})'


def convergence(run: Run, metric: str = BOX_AP, tolerance: float = TOLERANCE) -> Convergence:
    """The rule: the trend of ``metric`` over the last quarter of the full-LR stage."""
    window = judged_window(run.first_lr_drop)
    points = [(r['iter'], ap_points(r, metric)) for r in run.records]
    trend = rise_across(points, window)
    inside = sum(window[0] <= i <= window[1] for i, _ in points)
    if trend is None:
        return Convergence(None, None, None, window, inside)
    return Convergence(
        trend.rise < tolerance, trend.rise, trend.error, window, inside, trend.scatter
    )
