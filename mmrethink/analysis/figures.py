"""Matplotlib set-up and saving shared by the pack's figures."""

from typing import List

import matplotlib

matplotlib.use('Agg')  # files only: works on machines without a display
import matplotlib.pyplot as plt  # noqa: E402

plt.rcParams['svg.fonttype'] = 'none'  # labels stay text in the SVG: searchable, editable


def save_png_svg(fig: plt.Figure, out_stem: str) -> List[str]:
    """Write ``<out_stem>.png`` and ``.svg`` and close the figure."""
    fig.tight_layout()
    paths = [f'{out_stem}.png', f'{out_stem}.svg']
    for path in paths:
        fig.savefig(path, dpi=120)
    plt.close(fig)
    return paths
