"""Figures for the reports, drawn without pyplot and imported only when something is plotted.

matplotlib costs about 0.7 s to import (pyplot more): a run pays it in its report step,
never in start-up. A `Figure` made here has no GUI backend and nothing global to close;
`fig.savefig` renders it with Agg.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.axis import Axis
    from matplotlib.figure import Figure


def figure(**kwargs: Any) -> Figure:
    from matplotlib.figure import Figure

    return Figure(**kwargs)


def whole_rounds(axis: Axis) -> None:
    """Ticks on whole rounds only: none at round 1.25, and one round is one tick (not 0.945 ... 1.065)."""
    from matplotlib.ticker import MaxNLocator

    axis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
