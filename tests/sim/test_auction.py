"""A reverse-auction task end to end on the embedded chain: anyone holding the asks and reading the
chain recomputes each round's winners and prices, the scores root on chain commits to the asks, and
no round pays more than its budget."""

import pytest

from fedstake.chain.market import scores_leaf
from fedstake.chain.merkle import MerkleTree
from fedstake.errors import ProtocolError
from fedstake.proof.commitment import Commitment, sign_commitment
from fedstake.protocol.messages import RoundTask, Submission
from fedstake.protocol.pricing import ContributionRecord, auction_budget, run_auction
from fedstake.protocol.round import run_round
from fedstake.protocol.scoring import scores_hash
from fedstake.protocol.validator import Rejection
from fedstake.sim.asks import round_costs
from fedstake.sim.config import parse_scenario
from fedstake.sim.runner import InProcessTransport
from fedstake.sim.world import build_world

ROUNDS = 3


def scenario(**task):
    return parse_scenario({
        "task": {"dataset": "digits", "partition": "iid", "model": "logreg", "rounds": ROUNDS, "clients-per-round": 5,
                 "local-epochs": 1, "budget": 300, "seed": 11, "pricing": "reverse-auction"} | task,
        "trainers": [{"count": 8}, {"count": 4, "ask-factor": 3.0}],
        "validators": [{"count": 2}],
        "edge": {}, "costs": {"participation": "rational", "reservation": 0.5, "reservation-spread": 0.5},
    })


@pytest.fixture(scope="module")
def played():
    world = build_world(scenario())
    try:
        transport, record, rounds = InProcessTransport(world), ContributionRecord(), []
        session, market = world.session, world.deployment.market
        asks = session.asks.current()
        for r in range(1, ROUNDS + 1):
            signers = [a.trainer for a in asks]
            # what an outsider recomputes before the round, from the asks and the chain alone
            expected = run_auction(asks, domain=market.domain(), task_id=world.task_id, round=r, candidates=signers,
                                   reputations=dict(zip(signers, market.reputations_of(signers))),
                                   contributions=record, cap=5,
                                   budget=auction_budget(session.terms.round_budget, validator_share=0.1))
            report = run_round(session, r, transport)
            record.add(report.summary.rewards.consensus)
            rounds.append((expected, report, market.final_result(world.task_id, r)))
        yield world, asks, rounds
    finally:
        world.backend.close()


def test_honest_trainers_ask_their_devices_cost_and_the_misreporting_group_three_times_it(played):
    world, asks, _ = played
    costs = round_costs(world.edge, world.trainers)
    factors = [1] * 8 + [3] * 4
    assert [a.ask.price for a in asks] == [costs[t.address] * f for t, f in zip(world.trainers, factors)]
    assert all(0 < c < 10**19 for c in costs.values())  # about the reservation: half a token, spread


def test_the_cohort_is_the_auction_anyone_recomputes(played):
    _, _, rounds = played
    for expected, report, _ in rounds:
        assert report.selected == tuple(sorted(expected.outcome.winners))
        assert report.auction.outcome == expected.outcome
        assert len(report.selected) == 5


def test_each_paid_winner_gets_its_critical_price_within_the_budget(played):
    world, asks, rounds = played
    price = {a.trainer: a.ask.price for a in asks}
    budget = auction_budget(world.session.terms.round_budget, validator_share=0.1)
    for expected, report, _ in rounds:
        paid = report.summary.rewards.trainer_rewards
        assert sum(paid.values()) <= budget
        for trainer, amount in paid.items():
            assert amount in (0, expected.outcome.payments[trainer])
            assert amount == 0 or amount >= price[trainer]
        assert any(paid.values())


def test_the_scores_root_on_chain_commits_to_the_asks_that_bid(played):
    _, _, rounds = played
    for expected, report, final in rounds:
        rewards = report.summary.rewards
        leaves = [scores_leaf(v, scores_hash(report.round, rewards.trainers, rewards.reported[v]))
                  for v in sorted(rewards.reported)]
        tree = MerkleTree(leaves + expected.leaves())
        assert tree.root == final.scores_root
        assert len(expected.leaves()) == 12


def test_a_round_pays_less_than_a_fixed_round_and_the_rest_stays_in_escrow(played):
    world, _, rounds = played
    market = world.deployment.market
    paid = sum(sum(r.summary.rewards.trainer_rewards.values()) for _, r, _ in rounds)
    assert paid < auction_budget(world.session.terms.round_budget, validator_share=0.1) * ROUNDS
    assert market.view("escrow_left", world.task_id) > 0


def _last_round_task(world, report):
    session = world.session
    desk = session.ports[0].desk
    return desk, RoundTask(world.task_id, ROUNDS, world.deployment.market.round_seed(world.task_id, ROUNDS),
                           session.global_params, desk.model_hash, session.domain, None, report.auction.asks)


def test_a_validator_refuses_a_cohort_that_is_not_the_auctions(played):
    world, _, rounds = played
    report = rounds[-1][1]
    desk, task = _last_round_task(world, report)
    loser = next(t.address for t in world.trainers if t.address not in report.selected)
    cohort = {a: 1 for a in report.selected[1:]} | {loser: 1}
    with pytest.raises(ProtocolError, match="the cohort is not the winners of the round's auction"):
        desk.assess(task, [], cohort)


def test_an_update_signing_other_samples_than_its_ask_is_rejected(played):
    world, _, rounds = played
    report = rounds[-1][1]
    desk, task = _last_round_task(world, report)
    # the desk has adopted the round since, so its record (and the winners it recomputes) moved on:
    # check against the winners it recomputes now
    with pytest.raises(ProtocolError):
        desk._check_auction(task, {}, [], [])
    winners = sorted(desk.auction.outcome.winners)
    winner = next(t for t in world.trainers if t.address == winners[0])
    signed = sign_commitment(Commitment(world.task_id, ROUNDS, winner.address, b"\x01" * 32, winner.samples + 1),
                             task.domain, winner.account)
    kept, rejected = desk._check_auction(task, dict.fromkeys(winners, 1), [Submission(signed, b"")], [])
    assert kept == [] and rejected == [Rejection(winner.address, f"commitment signs {winner.samples + 1} samples, "
                                                                  f"its ask offered {winner.samples}")]
