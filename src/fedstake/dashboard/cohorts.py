"""Who each round selected, recomputed from the chain the way the protocol draws it.

No contract records a cohort: emitting one event per selected trainer
would make a round's gas grow with its cohort. The draw is public
instead (`protocol/cohort.py`): the round seed the market derives,
every trainer bonded to the task with a bond of at least the task's
minimum, weighted by bond x (1 + log2 reputation). This replays it with
the same functions from the event log: `TaskJoined` bonds less the
`Slashed` amounts of the task's upheld disputes, and each account's
reputation from `Registered` (1) and `ReputationChanged`, all as they
stood just before the round's first proposal (the protocol draws after
the previous round is final and before anyone proposes).

Two assumptions, said on the page: the task used stake-and-reputation
selection (a stake-only scenario is an off-chain choice the chain does
not record), and no claim moved a candidate's reputation between the
draw and the first proposal (the simulator claims before it draws).
"""

from __future__ import annotations

from dataclasses import dataclass

from fedstake.chain.market import TaskMarket, TaskState
from fedstake.chain.staking import Role
from fedstake.dashboard.logs import Event, EventLog
from fedstake.protocol.cohort import select_cohort, selection_weight

_NEVER = (2**63, 0)  # a position after every event: a round nobody proposed yet draws from the state now


def _at(event: Event) -> tuple[int, int]:
    return event.block, event.index


@dataclass(frozen=True)
class TaskHistory:
    """The events of one task a draw depends on, each with its position in the chain."""

    joins: list[Event]
    slashes: list[Event]
    reputations: list[Event]

    @classmethod
    def read(cls, log: EventLog, task_id: int) -> TaskHistory:
        disputes = {e.args["dispute_id"] for e in log.of("DisputeOpened", task_id=task_id)}
        settled = {e.tx_hash for e in log.of("DisputeResolved") if e.args["dispute_id"] in disputes}
        joins = [e for e in log.of("TaskJoined", task_id=task_id) if e.args["role"] == Role.TRAINER]
        reputations = sorted(log.of("Registered") + log.of("ReputationChanged"), key=_at)
        return cls(joins, [e for e in log.of("Slashed") if e.tx_hash in settled], reputations)

    def weights_before(self, position: tuple[int, int], min_stake: int) -> dict[str, float]:
        """Every bonded trainer's selection weight as the chain stood just before `position`."""
        bonds = {e.args["account"]: e.args["bond"] for e in self.joins if _at(e) < position}
        for e in self.slashes:
            if _at(e) < position and e.args["account"] in bonds:
                bonds[e.args["account"]] -= e.args["amount"]
        reputation: dict[str, int] = {}
        for e in self.reputations:
            if _at(e) >= position:
                break
            reputation[e.args["account"]] = e.args.get("reputation", 1)  # Registered sets one point
        return {a: selection_weight(b, reputation.get(a, 0)) for a, b in bonds.items() if b >= min_stake}


class CohortReplay:
    """Each round's cohort of a task; a round with a proposal is drawn once and kept (its inputs are past)."""

    def __init__(self, log: EventLog, market: TaskMarket) -> None:
        self.log, self.market = log, market
        self._kept: dict[tuple[int, int], list[str]] = {}

    def cohorts(self, task_id: int, task: TaskState, rounds_final: int) -> dict[int, list[str]]:
        """{round: selected trainers} for every round drawn so far (the final ones and the one open)."""
        history: TaskHistory | None = None
        drawn: dict[int, list[str]] = {}
        for number in range(1, min(rounds_final + 1, task.rounds) + 1):
            if (task_id, number) in self._kept:
                drawn[number] = self._kept[(task_id, number)]
                continue
            history = history or TaskHistory.read(self.log, task_id)
            proposed = self.log.of("RoundProposed", task_id=task_id, round=number)
            if task.closed and not proposed:
                continue  # the task ended before this round was drawn
            position = _at(proposed[0]) if proposed else _NEVER
            weights = history.weights_before(position, task.min_stake)
            drawn[number] = select_cohort(self.market.round_seed(task_id, number), weights, task.cohort_size)
            if proposed:
                self._kept[(task_id, number)] = drawn[number]
        return drawn
