"""Figures drawn with matplotlib's object API and saved as PNG and SVG.

No ``pyplot``: importing the pack must not switch the plotting backend or touch the
figure state of a user's notebook, and a ``Figure`` with its own canvas needs no display.
"""

from typing import List, Tuple

import matplotlib
from matplotlib.axes import Axes
from matplotlib.figure import Figure


def panels(count: int, width: float, height: float) -> Tuple[Figure, List[Axes]]:
    """A figure of ``count`` panels side by side, each ``width`` x ``height`` inches."""
    fig = Figure(figsize=(width * count, height))
    return fig, list(fig.subplots(1, count, squeeze=False)[0])


def save_png_svg(fig: Figure, out_stem: str) -> List[str]:
    """Write ``<out_stem>.png`` and ``.svg``; labels stay text in the SVG (searchable)."""
    fig.tight_layout()
    paths = [f'{out_stem}.png', f'{out_stem}.svg']
    with matplotlib.rc_context({'svg.fonttype': 'none'}):  # for these files only
        for path in paths:
            fig.savefig(path, dpi=120)
    return paths
