"""The sweep's pivot table: every combination of all axes but the last down, the last across.

One axis is a single column of the metric; two are the classic grid (first down, second
across); three to six keep one label column per leading axis, so a robustness table of
six axes stays one readable markdown table, grep-able by any label.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fedstake.sim.sweep import Axis


def _cell(value: float) -> str:
    """A count as the whole number it is (`rejected` 3, not 3.000), a measure to three decimals."""
    return str(value) if isinstance(value, int) else f"{value:.3f}"


def _shown(row: dict[str, Any] | None, metric: str) -> str:
    if row is None:
        return ""  # not run yet
    return "failed" if "error" in row else _cell(row[metric])


def pivot_markdown(rows: list[dict[str, Any]], axes: list[Axis], metric: str = "final_accuracy") -> str:
    """Leading axes down (one label column each), the last across (a single metric column for
    one axis); the last label column's header names the axis across and the metric."""
    lead, across = (list(axes[:-1]), axes[-1]) if len(axes) > 1 else (list(axes), None)
    cols = across.values if across else (metric,)
    labels = [a.key for a in lead]
    if across:
        labels[-1] += f" \\ {across.key} ({metric})"
    found = {tuple(r["vary"][a.key] for a in axes): r for r in rows}
    lines = ["| " + " | ".join([*labels, *cols]) + " |", "|---" * (len(labels) + len(cols)) + "|"]
    for values in itertools.product(*(a.values for a in lead)):
        cells = [_shown(found.get(values + ((col,) if across else ())), metric) for col in cols]
        lines.append("| " + " | ".join([*values, *cells]) + " |")
    return "\n".join(lines) + "\n"
