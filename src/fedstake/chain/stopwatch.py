"""Real time spent on the chain and on signatures, measured inside a run.

A comparison reports how much of a mechanism's wall time went to chain
calls and signing; the backend and the roles that sign share one
stopwatch, owned by whoever runs them.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from typing import Iterator


class Stopwatch:
    """Accumulates the seconds spent inside `measure()` blocks (nested blocks count once,
    under the outermost block's label), in total and per label."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.by_label: dict[str, float] = {}
        self._depth = 0

    @contextmanager
    def measure(self, label: str = "other") -> Iterator[None]:
        self._depth += 1
        started = time.perf_counter()
        try:
            yield
        finally:
            self._depth -= 1
            if self._depth == 0:
                spent = time.perf_counter() - started
                self.seconds += spent
                self.by_label[label] = self.by_label.get(label, 0.0) + spent
