"""The published rewards table behind a rewards root, and a participant's claim from it.

The chain keeps only the root; the table (OpenZeppelin's dump format,
`tables/round-N.json`) holds every cumulative amount and gives the
proofs. Only a table whose rebuilt root equals the given root is used.
"""

from __future__ import annotations

from fedstake.chain.market import reward_leaf
from fedstake.dashboard.views import ClaimView
from fedstake.errors import ArtifactError, FetchError
from fedstake.protocol.store import ArtifactStore, PublishedTable


def hex0x(value: bytes) -> str:
    return "0x" + value.hex()


def matching_table(store: ArtifactStore, rounds: list[int], root: bytes) -> PublishedTable | None:
    """The latest of `rounds`' published tables that `root` commits to (tables exist only for settled rounds)."""
    for number in sorted(rounds, reverse=True):
        try:
            return store.get_table(number, root=root)
        except (FetchError, ArtifactError):
            continue
    return None


def table_rewards(store: ArtifactStore, rounds: list[int], root: bytes) -> dict[str, tuple[int, int]]:
    """{account: (cumulative amount, accepted rounds)} of the table behind `root`; {} when none is published."""
    table = matching_table(store, rounds, root)
    return dict(table.entries) if table else {}


def latest_claim(store: ArtifactStore, rounds: list[int], root: bytes, account: str, *, market: str, task_id: int,
                 claimed: int, root_source: str) -> ClaimView | None:
    """What `account` would send to claim against `root`, or None if no published table holds it."""
    table = matching_table(store, rounds, root)
    if table is None or account not in table.entries:
        return None
    amount, accepted = table.entries[account]
    proof = table.tree.proof(reward_leaf(account, amount, accepted))
    return ClaimView(market, task_id, amount, accepted, [hex0x(p) for p in proof], hex0x(root), root_source, claimed)
