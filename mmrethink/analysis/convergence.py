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

import numpy as np

from .runs import BOX_AP, Run, ap_points

# AP points. Also the margin within which two arms are "comparable" (claims.py): the
# paper calls arms within ~0.3 AP on COCO comparable; the demo's 100 images are noisier.
TOLERANCE = 1.0
WINDOW = 0.25  # the last quarter of the full-LR stage
MIN_EVALUATIONS = 3  # a line through fewer is no trend


@dataclass(frozen=True)
class Convergence:
    """The rule's verdict on one run and metric; ``converged`` None: not judged."""

    converged: Optional[bool]
    rise: Optional[float]  # AP points the fitted line rises across the window
    noise: Optional[float]  # the rise's standard error, from the scatter around the line
    window: Tuple[int, int]  # iterations
    evaluations: int  # in the window

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


def judged_window(first_lr_drop: int) -> Tuple[int, int]:
    """The iterations the rule judges: the last quarter of the full-LR stage."""
    return round(first_lr_drop * (1 - WINDOW)), first_lr_drop


def convergence(run: Run, metric: str = BOX_AP, tolerance: float = TOLERANCE) -> Convergence:
    """The rule: the trend of ``metric`` over the last quarter of the full-LR stage."""
    start, end = judged_window(run.first_lr_drop)
    points = [(r['iter'], ap_points(r, metric)) for r in run.records if start <= r['iter'] <= end]
    if len(points) < MIN_EVALUATIONS:
        return Convergence(None, None, None, (start, end), len(points))
    iters, aps = np.array(points, dtype=float).T
    coefficients, residuals = np.polyfit(iters, aps, 1, full=True)[:2]
    slope = coefficients[0]
    scatter = float(residuals[0]) / (len(points) - 2) if len(residuals) else 0.0
    slope_error = np.sqrt(scatter / np.sum((iters - iters.mean()) ** 2))
    span = end - start
    rise = round(float(slope * span), 6) + 0.0  # no '-0.0' for a flat line
    noise = round(float(slope_error * span), 6)
    return Convergence(rise < tolerance, rise, noise, (start, end), len(points))
