"""Settlement on a real chain: attestation decides, dishonest proposers are slashed."""

import pytest
import torch
from eth_utils import keccak

from deployers import TOKEN, deploy, fund, open_task, stake
from fedstake.chain.embedded import EmbeddedBackend
from fedstake.chain.market import RoundResult
from fedstake.chain.staking import Role
from fedstake.errors import ProtocolError
from fedstake.learn.aggregators import make_aggregator
from fedstake.protocol.clock import SimulatedClock
from fedstake.protocol.ledger import RewardLedger
from fedstake.protocol.settlement import LocalPort, RoundSettler
from fedstake.protocol.validator import RoundOutcome, Validator


def outcome(tag: bytes) -> RoundOutcome:
    result = RoundResult(keccak(tag), keccak(b"updates"), keccak(tag + b"rewards"), 10)
    return RoundOutcome((), (), torch.zeros(1), {}, result, RewardLedger(), None)


@pytest.fixture
def chain(actors):
    backend = EmbeddedBackend()
    system = deploy(backend, actors)
    validators = []
    for account in (*actors.validators, actors.outsider):
        stake(system, account, 100 * TOKEN, Role.VALIDATOR)
        fund(system, account, 100 * TOKEN)
        system.token.approve(system.market.address, 100 * TOKEN, sender=account)
        validators.append(Validator(account, None, make_aggregator("fedavg")))
    task = open_task(system, actors.requester, tuple(v.account for v in validators), budget=1_000 * TOKEN, rounds=2)
    return system, task, validators, RoundSettler(system.market, task, SimulatedClock(backend))


def ports(settler, validators, outcomes, round=1):
    return [LocalPort(settler.part(v.account), outcomes[v.address].result, round) for v in validators]


def test_unanimous_validators_finalise_after_the_window(chain):
    system, task, validators, settler = chain
    settlement = settler.settle(1, ports(settler, validators, {v.address: outcome(b"honest") for v in validators}))
    assert settlement.disputes == [] and len(settlement.proposals) == 1
    assert settlement.proposals[0].attesters == [v.address for v in validators] and settlement.proposals[0].final
    assert system.market.rounds_done(task) == 1
    assert settlement.finalized_at >= system.market.proposal(task, 1, settlement.final_hash).quorum_at + 600


def test_a_self_paying_minority_is_outvoted_slashed_and_dropped(chain):
    system, task, validators, settler = chain
    outcomes = {v.address: outcome(b"honest") for v in validators[:3]} | {validators[3].address: outcome(b"greedy")}
    settlement = settler.settle(1, ports(settler, validators, outcomes))
    greedy_hash = outcomes[validators[3].address].result.hash(task, 1)
    assert settlement.final_hash == outcomes[validators[0].address].result.hash(task, 1)
    upheld = [d for d in settlement.disputes if d.upheld]
    assert [d.accused for d in upheld] == [validators[3].address] and upheld[0].slashed == 50 * TOKEN
    assert system.market.proposal(task, 1, greedy_hash).rejected
    assert system.market.view("weight", task, validators[3].address) == 0
    dismissed = [d for d in settlement.disputes if d.upheld is False]
    assert [d.challenger for d in dismissed] == [validators[3].address]  # its counter-dispute failed
    assert system.token.balance_of(system.insurance) > 0


def test_a_split_with_no_two_thirds_stops_the_round(chain):
    _, _, validators, settler = chain
    outcomes = {v.address: outcome(b"a" if i < 2 else b"b") for i, v in enumerate(validators)}
    with pytest.raises(ProtocolError, match="no result reached two thirds"):
        settler.settle(1, ports(settler, validators, outcomes))


def test_a_validator_that_finds_its_result_posted_attests_it_and_a_repeat_changes_nothing(chain):
    """Posting is safe to run in any order on several nodes, and again: the second to post the
    same result attests it instead of failing, and posting once more is a no-op."""
    system, task, validators, settler = chain
    result = outcome(b"honest").result
    first, second = (settler.part(v.account) for v in validators[:2])
    assert first.post(1, result) is True and second.post(1, result) is False
    assert system.market.proposal(task, 1, result.hash(task, 1)).weight == 200 * TOKEN
    assert first.post(1, result) is True and second.post(1, result) is False
    assert system.market.proposal(task, 1, result.hash(task, 1)).weight == 200 * TOKEN


def test_challenging_a_result_already_disputed_or_ones_own_opens_nothing(chain):
    system, task, validators, settler = chain
    honest, greedy = outcome(b"honest").result, outcome(b"greedy").result
    mine = honest.hash(task, 1)
    settler.part(validators[0].account).post(1, honest)
    settler.part(validators[3].account).post(1, greedy)
    posted = [mine, greedy.hash(task, 1)]
    opened = settler.part(validators[1].account).challenge(1, mine, posted)
    assert [h for h, _ in opened] == [greedy.hash(task, 1)]
    assert settler.part(validators[2].account).challenge(1, mine, posted) == []  # already disputed
