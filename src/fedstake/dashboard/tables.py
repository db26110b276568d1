"""The published rewards table behind a rewards root, and a participant's claim from it.

The chain keeps only the root; the table (OpenZeppelin's dump format,
`tables/round-N.json`) holds every cumulative amount and gives the
proofs. Only a table whose rebuilt root equals the given root is used,
so a table once checked is kept by its root: rebuilding a 1,000-leaf
tree costs ~160 ms, which every participant page would pay otherwise.
"""

from __future__ import annotations

from fedstake.chain.market import reward_leaf
from fedstake.dashboard.views import ClaimView
from fedstake.errors import ArtifactError, FetchError
from fedstake.protocol.store import ArtifactStore, PublishedTable


def hex0x(value: bytes) -> str:
    return "0x" + value.hex()


class PublishedTables:
    """The checked tables of one run directory's store, by the root they rebuild to."""

    def __init__(self, store: ArtifactStore) -> None:
        self.store = store
        self._by_root: dict[bytes, PublishedTable] = {}

    def matching(self, rounds: list[int], root: bytes) -> PublishedTable | None:
        """The latest of `rounds`' published tables that `root` commits to (only settled rounds have one);
        a table not found is looked for again next time (a live run may publish it meanwhile)."""
        if root not in self._by_root:
            found = self._find(rounds, root)
            if found is None:
                return None
            self._by_root[root] = found
        return self._by_root[root]

    def _find(self, rounds: list[int], root: bytes) -> PublishedTable | None:
        for number in sorted(rounds, reverse=True):
            try:
                return self.store.get_table(number, root=root)
            except (FetchError, ArtifactError):
                continue
        return None

    def rewards(self, rounds: list[int], root: bytes) -> dict[str, tuple[int, int]]:
        """{account: (cumulative amount, accepted rounds)} of the table behind `root`; {} when none is published."""
        table = self.matching(rounds, root)
        return dict(table.entries) if table else {}

    def claim(self, rounds: list[int], root: bytes, account: str, *, market: str, task_id: int, claimed: int,
              root_source: str) -> ClaimView | None:
        """What `account` would send to claim against `root`, or None if no published table holds it."""
        table = self.matching(rounds, root)
        if table is None or account not in table.entries:
            return None
        amount, accepted = table.entries[account]
        proof = table.tree.proof(reward_leaf(account, amount, accepted))
        return ClaimView(market, task_id, amount, accepted, [hex0x(p) for p in proof], hex0x(root), root_source,
                         claimed)
