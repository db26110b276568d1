"""A round's result on chain: proposals, attestations, disputes, finality.

Every active validator computed its own outcome. Settling it is split in
two. `ValidatorSettlement` is one validator's part, acting with its own
key and deciding only from its own result and what the chain shows: post
(attest a posted result equal to its own, or propose its own), challenge
every posted result that differs from its own, vote on a result dispute
by the same test. `RoundSettler` drives the task's validators through
those steps in the round's rotation, each through a `SettlementPort`:
in the simulator a port is the validator's part in this process; in a
deployment it is a message to the validator's own node, which runs the
same `ValidatorSettlement` there. The driver holds no key: resolving,
re-checking quorum and finalising (which anyone may do) also go through
a validator's port.

Disputes are resolved, the surviving result's challenge window is
waited out on the chain's clock, and the round is finalised. With less
than a third of the weight dishonest, the honest result is the one that
ends final and the dishonest proposers are the ones slashed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Protocol, Sequence, TypeVar

from fedstake.chain.accounts import Account
from fedstake.chain.market import ZERO32, DisputeStatus, RoundResult, TaskMarket
from fedstake.errors import ContractRevert, ProtocolError, Unreachable
from fedstake.protocol.clock import Clock


@dataclass
class ProposalRecord:
    result_hash: bytes
    proposer: str
    attesters: list[str] = field(default_factory=list)
    rejected: bool = False
    final: bool = False


@dataclass
class DisputeRecord:
    dispute_id: int
    kind: str
    accused: str
    challenger: str
    votes: dict[str, bool] = field(default_factory=dict)
    upheld: bool | None = None
    slashed: int = 0


@dataclass
class Settlement:
    final_hash: bytes
    proposals: list[ProposalRecord]
    disputes: list[DisputeRecord]
    finalized_at: int
    finalize_tx: str
    slashed_validators: list[str]
    audits: list = field(default_factory=list)
    absent: dict[str, str] = field(default_factory=dict)  # validators that fell silent while settling: why


class ValidatorSettlement:
    """One validator's part in settling a round of one task, with its own key.

    Every step is safe to repeat and to run concurrently with the other
    validators' steps: a proposal someone else posted first is attested
    instead, a dispute someone else opened first is left to them.
    """

    def __init__(self, market: TaskMarket, task_id: int, account: Account, clock: Clock) -> None:
        self.market, self.task_id, self.account, self.clock = market, task_id, account, clock
        self._challenge_window: int | None = None  # set at deployment, never changed: read once

    @property
    def address(self) -> str:
        return self.account.address

    def post(self, round: int, result: RoundResult) -> bool:
        """Attest `result` if it is posted already, else propose it; True if this validator proposed.
        Posting again what it posted before (a coordinator that restarted the round) changes nothing.
        The proposal is read first: the round's first poster, the usual case, then needs no other read."""
        mine = result.hash(self.task_id, round)
        proposer = self.market.proposal(self.task_id, round, mine).proposer
        if proposer == self.address:
            return True
        if proposer == _NOBODY:
            try:
                self.market.propose_round(self.task_id, round, result, sender=self.account)
                return True
            except ContractRevert as exc:
                if exc.reason != "rounds: already proposed":  # another validator posted it meanwhile
                    raise
        if self.market.view("attested", self.task_id, round, self.address) != mine:
            self.market.attest_round(self.task_id, round, mine, sender=self.account)
        return False

    def challenge(self, round: int, mine: bytes, posted: Sequence[bytes]) -> list[tuple[bytes, int]]:
        """Dispute every posted result other than `mine`; returns (result hash, dispute id) of those it opened."""
        opened = []
        for result_hash in posted:
            if result_hash == mine:
                continue
            try:
                opened.append((result_hash, self.market.challenge_result(self.task_id, round, result_hash,
                                                                         sender=self.account)))
            except ContractRevert as exc:
                if exc.reason not in ("disputes: already disputed", "disputes: result rejected"):
                    raise
        return opened

    def vote(self, dispute_id: int, disputed: bytes, mine: bytes) -> bool | None:
        """Uphold a dispute of a result other than `mine`, dismiss one of `mine`; None if the
        contract refused the vote (already voted, or no weight left in the task)."""
        uphold = disputed != mine
        try:
            self.market.vote(dispute_id, uphold, sender=self.account)
        except ContractRevert:
            return None
        return uphold

    def resolve(self, dispute_id: int) -> tuple[bool, int]:
        """(upheld, slashed): now if the votes decide it, else once its vote period ends."""
        try:
            return self.market.resolve(dispute_id, sender=self.account)
        except ContractRevert as exc:
            if exc.reason != "disputes: vote still open":
                raise
        self.clock.wait_until(self.market.dispute(dispute_id).vote_deadline)
        return self.market.resolve(dispute_id, sender=self.account)

    def check_quorum(self, round: int, result_hash: bytes) -> bytes:
        """Ask the contract whether `result_hash` now holds two thirds; returns the round's quorum result."""
        self.market.check_quorum(self.task_id, round, result_hash, sender=self.account)
        return self.market.view("quorum_result", self.task_id, round)

    def finalize(self, round: int) -> str:
        """Wait out the quorum result's challenge window, then make it final; returns the transaction hash."""
        quorum = self.market.view("quorum_result", self.task_id, round)
        quorum_at = self.market.proposal(self.task_id, round, quorum).quorum_at
        if self._challenge_window is None:
            self._challenge_window = self.market.view("challenge_window")
        self.clock.wait_until(quorum_at + self._challenge_window)
        return self.market.finalize_round(self.task_id, round, sender=self.account).tx_hash


class SettlementPort(Protocol):
    """What settling a round needs of one validator, wherever it runs. Each port already
    knows the result its validator stands for this round."""

    address: str
    result_hash: bytes

    def post(self, round: int) -> bool: ...

    def challenge(self, round: int, posted: Sequence[bytes]) -> list[tuple[bytes, int]]: ...

    def vote(self, dispute_id: int, disputed: bytes) -> bool | None: ...

    def resolve(self, dispute_id: int) -> tuple[bool, int]: ...

    def check_quorum(self, round: int, result_hash: bytes) -> bytes: ...

    def finalize(self, round: int) -> str: ...


class LocalPort:
    """A validator's settlement part in this process, standing for one result a round."""

    def __init__(self, part: ValidatorSettlement, result: RoundResult | None = None, round: int = 0) -> None:
        self.part = part
        self.address = part.address
        self.result_hash = b""
        if result is not None:
            self.stand_for(result, round)

    def stand_for(self, result: RoundResult, round: int) -> None:
        """The result this validator computed for `round`, which its steps defend."""
        self.result = result
        self.result_hash = result.hash(self.part.task_id, round)

    def post(self, round: int) -> bool:
        return self.part.post(round, self.result)

    def challenge(self, round: int, posted: Sequence[bytes]) -> list[tuple[bytes, int]]:
        return self.part.challenge(round, self.result_hash, posted)

    def vote(self, dispute_id: int, disputed: bytes) -> bool | None:
        return self.part.vote(dispute_id, disputed, self.result_hash)

    def resolve(self, dispute_id: int) -> tuple[bool, int]:
        return self.part.resolve(dispute_id)

    def check_quorum(self, round: int, result_hash: bytes) -> bytes:
        return self.part.check_quorum(round, result_hash)

    def finalize(self, round: int) -> str:
        return self.part.finalize(round)


T = TypeVar("T")
R = TypeVar("R")
FanOut = Callable[[Sequence[T], Callable[[T], R]], list[R]]


def in_turn(items: Sequence[T], step: Callable[[T], R]) -> list[R]:
    """`step` on each item, one after the other, in order: the simulator's fan-out."""
    return [step(item) for item in items]


def reached(fan_out: FanOut, items: Sequence[T], step: Callable[[T], R],
            absent: dict[str, str]) -> list[tuple[T, R]]:
    """(item, answer) for every item that answered `step`, in order; the rest are named in
    `absent` (address -> why). In the simulator every port answers."""

    def attempt(item: T) -> tuple[bool, R | str]:
        try:
            return True, step(item)
        except Unreachable as exc:
            return False, str(exc)

    answered = []
    for item, (ok, answer) in zip(items, fan_out(items, attempt)):
        if ok:
            answered.append((item, answer))
        else:
            absent[item.address] = answer  # type: ignore[attr-defined]
    return answered


def first_reached(items: Sequence[T], step: Callable[[T], R], absent: dict[str, str]) -> tuple[T, R]:
    """The first item, in order, that answers `step`, and its answer; those before it go in `absent`."""
    for item in items:
        try:
            return item, step(item)
        except Unreachable as exc:
            absent[item.address] = str(exc)  # type: ignore[attr-defined]
    raise ProtocolError(f"no validator answered: {absent}")


def _rotation(ports: Sequence[SettlementPort], round: int) -> list[SettlementPort]:
    start = (round - 1) % len(ports)
    return list(ports[start:]) + list(ports[:start])


class RoundSettler:
    """Drives one round's settlement through the task's validators' ports."""

    def __init__(self, market: TaskMarket, task_id: int, clock: Clock, fan_out: FanOut = in_turn) -> None:
        """`fan_out` runs a step on several validators: in turn in the simulator, at once in a
        deployment (each validator's steps are safe to race; results are kept in order)."""
        self.market, self.task_id, self.clock, self.fan_out = market, task_id, clock, fan_out

    def part(self, account: Account) -> ValidatorSettlement:
        """The settlement steps of the validator holding `account`, in this process."""
        return ValidatorSettlement(self.market, self.task_id, account, self.clock)

    def settle(self, round: int, ports: Sequence[SettlementPort],
               after_quorum: Callable[[bytes, str], list] | None = None) -> Settlement:
        """Post, dispute, vote, resolve, finalise, in the round's rotation of `ports`.

        `after_quorum(result_hash, proposer)` runs once the result holds its quorum, inside the
        challenge window (the spot checks of proof-of-learning); what it returns is kept.
        """
        order, absent = _rotation(ports, round), {}
        proposals, order = self._post(round, order, absent)
        disputes = self._dispute(round, order, proposals, absent)
        order = [p for p in order if p.address not in absent]
        final_hash = self.market.view("quorum_result", self.task_id, round)
        for record in proposals.values():  # a rival voided, a validator slashed: a survivor may now hold 2/3
            if final_hash == ZERO32 and not record.rejected:
                _, final_hash = first_reached(order, lambda p: p.check_quorum(round, record.result_hash), absent)
        if final_hash == ZERO32:
            raise ProtocolError(f"round {round}: no result reached two thirds of the validator weight"
                                + (f" (silent: {absent})" if absent else ""))
        audits = after_quorum(final_hash, order[0].address) if after_quorum is not None else []
        disputes += [a.dispute for a in audits if a.dispute is not None]
        _, finalize_tx = first_reached(order, lambda p: p.finalize(round), absent)
        proposals[final_hash].final = True
        slashed = [d.accused for d in disputes if d.upheld and d.kind == "result"]
        return Settlement(final_hash, list(proposals.values()), disputes, self.clock.now(), finalize_tx, slashed,
                          audits, absent)

    def _post(self, round: int, order: list[SettlementPort],
              absent: dict[str, str]) -> tuple[dict[bytes, ProposalRecord], list[SettlementPort]]:
        """The round's proposer posts first, then the others (together, in a deployment); a
        silent proposer's turn passes to the next in the rotation. Returns the proposals and the
        validators that posted, in rotation order."""
        proposals: dict[bytes, ProposalRecord] = {}
        first, proposed = first_reached(order, lambda port: port.post(round), absent)
        rest = order[order.index(first) + 1:]
        posted = [(first, proposed)] + reached(self.fan_out, rest, lambda port: port.post(round), absent)
        for port, proposed in posted:
            if port.result_hash in proposals:
                proposals[port.result_hash].attesters.append(port.address)
            else:
                proposer = port.address if proposed else self.market.proposal(self.task_id, round,
                                                                              port.result_hash).proposer
                proposals[port.result_hash] = ProposalRecord(port.result_hash, proposer, [port.address])
        return proposals, [port for port, _ in posted]

    def _dispute(self, round: int, order: list[SettlementPort], proposals: dict[bytes, ProposalRecord],
                 absent: dict[str, str]) -> list[DisputeRecord]:
        opened: dict[bytes, DisputeRecord] = {}
        for port in order:
            rivals = [h for h in proposals if h not in opened and h != port.result_hash]
            if not rivals:
                continue
            for _, now_open in reached(in_turn, [port], lambda p: p.challenge(round, rivals), absent):
                for result_hash, dispute_id in now_open:
                    opened[result_hash] = DisputeRecord(dispute_id, "result", proposals[result_hash].proposer,
                                                        port.address)
        for result_hash, record in opened.items():
            live = [p for p in order if p.address not in absent]
            for port, vote in reached(self.fan_out, live, lambda p: p.vote(record.dispute_id, result_hash), absent):
                if vote is not None:
                    record.votes[port.address] = vote
            first_reached([p for p in live if p.address not in absent], lambda p: self.resolve(record, p), absent)
            proposals[result_hash].rejected = bool(record.upheld)
        return list(opened.values())

    def resolve(self, record: DisputeRecord, port: SettlementPort | ValidatorSettlement) -> None:
        """Resolve through a validator's `port` or part (now if the votes decide it, else once the
        vote period ends)."""
        record.upheld, record.slashed = port.resolve(record.dispute_id)
        if self.market.dispute(record.dispute_id).status == DisputeStatus.OPEN:
            raise ProtocolError(f"dispute {record.dispute_id} is still open after resolving it")


_NOBODY = "0x" + "00" * 20
