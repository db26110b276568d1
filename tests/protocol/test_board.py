"""The round's commit-reveal of scores on the real world (contracts on the embedded chain, desks):
only reports matching their sender's reveal reach the consensus; a validator that commits and never
reveals loses this round's pay and its bond decays; one that waits to copy cannot commit at all."""

import pytest

from fedstake.protocol.round import run_round
from fedstake.protocol.scoring import scores_hash
from fedstake.sim.dishonest_validators import LateCopyValidator
from fedstake.sim.runner import InProcessTransport

EMPTY = b"\x00" * 32


class NeverReveals:
    """A port that commits its scores and then never reveals them (a validator gone quiet, or one
    holding back after seeing the others' reveals)."""

    def __init__(self, port) -> None:
        self.port, self.address = port, port.address

    @property
    def result_hash(self):
        return self.port.result_hash

    def reveal_scores(self, task, board, report):
        return None

    def __getattr__(self, name):
        return getattr(self.port, name)


def test_every_honest_report_is_committed_then_revealed_before_it_counts(world):
    session = world.session
    report = run_round(session, 1, InProcessTransport(world))
    rewards = report.summary.rewards
    assert sorted(rewards.reported) == sorted(p.address for p in session.ports)
    for port in session.ports:
        revealed = world.deployment.board.revealed(world.task_id, 1, port.address)
        assert revealed == scores_hash(1, rewards.trainers, rewards.reported[port.address])


def test_a_validator_that_commits_and_never_reveals_loses_the_rounds_pay_and_weight(world):
    session, transport = world.session, InProcessTransport(world)
    first = run_round(session, 1, transport)
    quiet = NeverReveals(session.ports[1])
    session.ports[1] = quiet
    second = run_round(session, 2, transport)
    rewards = second.summary.rewards
    assert world.deployment.board.commitment(world.task_id, 2, quiet.address) != EMPTY  # it did commit
    assert world.deployment.board.revealed(world.task_id, 2, quiet.address) is None
    assert quiet.address not in rewards.reported  # no weight in this round's consensus
    assert rewards.validator_rewards.get(quiet.address, 0) == 0
    assert all(rewards.validator_rewards[p.address] > 0 for p in session.ports if p is not quiet)
    ema = session.terms.scoring.agreement_ema
    before = first.summary.rewards.validator_bonds[quiet.address]
    assert rewards.validator_bonds[quiet.address] == pytest.approx((1 - ema) * before)  # decays, as agreeing with nothing
    assert world.deployment.market.rounds_done(world.task_id) == 2  # the round is final all the same


def test_a_late_copier_cannot_commit_once_it_has_seen_the_reveals(world):
    session = world.session
    desk = session.ports[3].desk
    honest = desk.validator
    desk.validator = LateCopyValidator(**{f: getattr(honest, f) for f in honest.__dataclass_fields__})
    report = run_round(session, 1, InProcessTransport(world))
    assert world.deployment.board.commitment(world.task_id, 1, desk.address) == EMPTY
    assert desk.address not in report.summary.rewards.reported
    assert report.summary.rewards.validator_rewards.get(desk.address, 0) == 0
