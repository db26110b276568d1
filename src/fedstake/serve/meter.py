"""Per-key query metering and batched fee settlement.

Each answered query adds the model's price to the pending fees; once
`batch` queries are pending (or on `flush`, e.g. at shutdown) the whole
amount is settled in one transaction into the model's RevenueSplitter, so
the chain sees one deposit per batch, never one per query. The price is
read from ModelGovernance at start and after every settlement: a price the
contributors vote applies from the next batch on.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable


@dataclass
class Settlement:
    """One settled batch: its queries, the fees deposited, and the deposit's transaction."""

    queries: int
    amount: int
    tx_hash: str


@dataclass
class FeeMeter:
    """Counts queries per API key and settles their fees every `batch` queries.

    `settle(amount, queries)` sends the deposit and returns its transaction hash;
    `read_price()` is the model's governed price per query."""

    batch: int
    read_price: Callable[[], int]
    settle: Callable[[int, int], str]
    queries: Counter = field(default_factory=Counter)
    settlements: list[Settlement] = field(default_factory=list)
    _pending_queries: int = 0
    _pending_fees: int = 0

    def __post_init__(self) -> None:
        if self.batch < 1:
            raise ValueError("a settlement batch holds at least one query")
        self._lock = threading.Lock()
        self.price = self.read_price()

    def record(self, key: str) -> None:
        """One answered query by `key`; settles when the batch is full."""
        with self._lock:
            self.queries[key] += 1
            self._pending_queries += 1
            self._pending_fees += self.price
            if self._pending_queries >= self.batch:
                self._settle_locked()

    def flush(self) -> Settlement | None:
        """Settle whatever is pending now (nothing to do: None)."""
        with self._lock:
            return self._settle_locked() if self._pending_queries else None

    @property
    def pending(self) -> tuple[int, int]:
        """(queries, fees) not settled yet."""
        return self._pending_queries, self._pending_fees

    def _settle_locked(self) -> Settlement | None:
        queries, amount = self._pending_queries, self._pending_fees
        done = Settlement(queries, amount, self.settle(amount, queries)) if amount else None
        if done:
            self.settlements.append(done)
        self._pending_queries = self._pending_fees = 0
        self.price = self.read_price()
        return done
