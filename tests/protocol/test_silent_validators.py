"""A validator that falls silent sits the rest of the round out; the others settle without it,
and once back it replays what it missed and ends where they are.

The scenario's real world (contracts on the embedded chain, trainers, validators' desks);
`Crashing` wraps one validator's port as a network would lose it: from a chosen step on,
every call is `Unreachable`.
"""

import pytest

from fedstake.errors import Unreachable
from fedstake.protocol.round import run_round
from fedstake.sim.runner import InProcessTransport

STEPS = ("assess", "conclude", "post", "adopt")


class Crashing:
    """A port that stops answering at `step` (and at every step after it)."""

    def __init__(self, port, step: str) -> None:
        self.port, self.down_from = port, STEPS.index(step)
        self.address = port.address
        self.calls: list[str] = []

    @property
    def result_hash(self):
        return self.port.result_hash

    def __getattr__(self, name):
        method = getattr(self.port, name)

        def call(*args, **kwargs):
            self.calls.append(name)
            if name in STEPS and STEPS.index(name) >= self.down_from:
                raise Unreachable(f"validator {self.address} is down")
            if name not in STEPS and self.down_from <= STEPS.index("post"):  # settlement steps after posting
                raise Unreachable(f"validator {self.address} is down")
            return method(*args, **kwargs)

        return call


class Tap:
    """A port that keeps the reports it concluded from (what a relay log keeps)."""

    def __init__(self, port) -> None:
        self.port, self.address, self.reports = port, port.address, {}

    @property
    def result_hash(self):
        return self.port.result_hash

    def conclude(self, task, reports):
        self.reports[task.round] = dict(reports)
        return self.port.conclude(task, reports)

    def __getattr__(self, name):
        return getattr(self.port, name)


class Recording(InProcessTransport):
    """The in-process transport, keeping what it delivered (what a relay log keeps)."""

    def __init__(self, world) -> None:
        super().__init__(world)
        self.delivered = {}

    def __call__(self, cohort, task):
        submissions = super().__call__(cohort, task)
        self.delivered[task.round] = (task, submissions)
        return submissions


@pytest.mark.parametrize("step", STEPS)
def test_the_round_is_final_without_a_validator_that_falls_silent(world, step):
    session = world.session
    crashed = Crashing(session.ports[1], step)
    session.ports[1] = crashed
    report = run_round(session, 1, Recording(world))
    assert world.deployment.market.rounds_done(world.task_id) == 1
    assert report.absent == {crashed.address: f"validator {crashed.address} is down"}
    final = next(p for p in report.settlement.proposals if p.final)
    assert (crashed.address in final.attesters) == (step == "adopt") and len(final.attesters) >= 3
    assert crashed.port.desk.adopted == 0  # it never adopted round 1


def test_a_silent_proposer_passes_its_turn_to_the_next_in_the_rotation(world):
    session = world.session
    session.ports[0] = Crashing(session.ports[0], "post")  # round 1's rotation starts with port 0
    report = run_round(session, 1, Recording(world))
    final = next(p for p in report.settlement.proposals if p.final)
    assert final.proposer == session.ports[1].address


def test_a_validator_back_from_a_missed_round_replays_it_and_agrees_with_the_others(world):
    session, transport = world.session, Recording(world)
    port, tap = session.ports[2], Tap(session.ports[0])
    session.ports[2], session.ports[0] = Crashing(port, "assess"), tap
    first = run_round(session, 1, transport)
    reports = tap.reports[1]
    assert port.address not in reports
    desk = port.desk
    task, submissions = transport.delivered[1]
    mine = desk.replay(task, submissions, {a: world.stakes[a] for a in first.selected}, reports, first.summary)
    other = tap.port.desk
    assert mine and desk.adopted == 1 and desk.model_hash == other.model_hash == first.summary.result.model_hash
    assert desk.ledger.table() == other.ledger.table()
    assert sorted(desk.histories) == sorted(other.histories)
    assert all((desk.histories[t] == other.histories[t]).all() for t in desk.histories)
    session.ports[2] = port  # back in the round
    second = run_round(session, 2, transport)
    final = next(p for p in second.settlement.proposals if p.final)
    assert port.address in final.attesters and not second.absent


def test_adopting_a_round_twice_changes_nothing(world):
    session = world.session
    report = run_round(session, 1, Recording(world))
    desk = session.ports[0].desk
    histories = {t: h.clone() for t, h in desk.histories.items()}
    desk.adopt(report.summary)
    assert desk.adopted == 1 and all((desk.histories[t] == h).all() for t, h in histories.items())
