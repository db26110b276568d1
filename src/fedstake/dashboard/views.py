"""What the dashboard's pages show, whatever source it came from.

A source (`source.py`) answers in these plain records; the pages and
the static report render them. Token amounts are integers in base
units, hashes 0x-hex; a field a source cannot know (accuracy on a bare
chain, gas in a deployed run) is None and the page says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ROUND_STATUSES = ("pending", "proposed", "quorum", "challenged", "final")


@dataclass(frozen=True)
class TaskView:
    task_id: int
    requester: str
    budget: int
    rounds: int
    rounds_final: int
    settle_every: int
    closed: bool
    committed: int | None = None  # cumulative rewards in the latest final root
    claimed: int | None = None  # what claims paid out of it so far

    @property
    def state(self) -> str:
        if self.closed:
            return "closed"
        return "running" if self.rounds_final else "open"


@dataclass(frozen=True)
class RoundView:
    round: int
    status: str  # one of ROUND_STATUSES
    accuracy: float | None = None
    loss: float | None = None
    paid: int | None = None  # rewards this round added to the cumulative total
    gas: int | None = None
    model_hash: str | None = None
    rewards_root: str | None = None
    proposals: int = 0
    disputes: int = 0


@dataclass(frozen=True)
class ParticipantView:
    address: str
    role: str
    behaviour: str | None
    stake: int
    reputation: int | None
    selected: int | None
    accepted: int | None
    earned: int | None
    claimed: int
    slashed: int
    disputes: int
    agreement: float | None = None  # a validator's mean trust share in the consensus


@dataclass(frozen=True)
class HistoryItem:
    round: int
    selected: bool | None
    accepted: bool | None
    reward: int | None
    note: str = ""


@dataclass(frozen=True)
class ClaimView:
    """What a claim sends, and the root the page checks its proof against."""

    market: str
    task_id: int
    cumulative: int
    accepted_rounds: int
    proof: list[str]
    root: str
    root_source: str  # where the root was read: "chain" or "results.json"
    claimed: int

    @property
    def claimable(self) -> int:
        return max(self.cumulative - self.claimed, 0)

    @property
    def call(self) -> str:
        proof = "[" + ",".join(self.proof) + "]"
        return f"claim({self.task_id}, {self.cumulative}, {self.accepted_rounds}, {proof})"


@dataclass(frozen=True)
class ParticipantDetail:
    row: ParticipantView
    history: list[HistoryItem]
    claim: ClaimView | None


@dataclass(frozen=True)
class DisputeView:
    dispute_id: int
    round: int
    kind: str
    accused: str
    challenger: str
    bond: int | None
    votes: dict[str, bool]
    outcome: str  # "open", "upheld" or "dismissed"
    slashed: int


@dataclass(frozen=True)
class ProvenanceLink:
    round: int
    model_hash: str
    updates_root: str
    rewards_root: str


@dataclass(frozen=True)
class ModelView:
    token_id: int | None  # None: not minted
    owner: str | None
    model_hash: str
    provenance: str | None
    links: list[ProvenanceLink] = field(default_factory=list)


@dataclass(frozen=True)
class EdgeRound:
    round: int
    round_s: float
    devices: int
    on_time: int
    stragglers: int
    energy_j: float
    payout_latency_s: float | None
