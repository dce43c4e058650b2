"""The arithmetic of the pack's convergence rule, shared by the analysis of finished runs
(:mod:`mmrethink.analysis.convergence`, which says why the rule is what it is) and by a
run that ends its full-LR stage once it holds (``UntilConvergedHook``).

Over the last quarter of a full-LR stage, the least-squares line through the AP
evaluations (at least :data:`MIN_EVALUATIONS`) must rise by less than
:data:`TOLERANCE` points across the quarter.
"""

from typing import NamedTuple, Optional, Sequence, Tuple

import numpy as np

# AP points. Also the margin within which two arms are "comparable" (analysis/claims.py).
TOLERANCE = 1.0
WINDOW = 0.25  # the last quarter of the full-LR stage
MIN_EVALUATIONS = 3  # a line through fewer is no trend


def judged_window(stage_end: int) -> Tuple[int, int]:
    """The iterations the rule judges: the last quarter of a full-LR stage ending at
    ``stage_end`` (the first LR drop)."""
    return round(stage_end * (1 - WINDOW)), stage_end


class Trend(NamedTuple):
    """The least-squares line through the evaluations of a window, in AP points."""

    rise: float  # across the window
    error: float  # the rise's standard error
    scatter: float  # one evaluation's standard deviation around the line


def rise_across(points: Sequence[Tuple[int, float]], window: Tuple[int, int]) -> Optional[Trend]:
    """The line through the ``(iteration, AP)`` points inside ``window``: its rise across
    the window, with the rise's standard error and the evaluations' scatter around it;
    None with fewer than :data:`MIN_EVALUATIONS` points there."""
    start, end = window
    inside = [(i, ap) for i, ap in points if start <= i <= end]
    if len(inside) < MIN_EVALUATIONS:
        return None
    iters, aps = np.array(inside, dtype=float).T
    coefficients, residuals = np.polyfit(iters, aps, 1, full=True)[:2]
    variance = float(residuals[0]) / (len(inside) - 2) if len(residuals) else 0.0
    slope_error = np.sqrt(variance / np.sum((iters - iters.mean()) ** 2))
    span = end - start
    rise = round(float(coefficients[0] * span), 6) + 0.0  # no '-0.0' for a flat line
    return Trend(rise, round(float(slope_error * span), 6), round(float(np.sqrt(variance)), 6))
