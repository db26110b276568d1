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
from fedstake.protocol.settlement import RoundSettler
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


def test_unanimous_validators_finalise_after_the_window(chain):
    system, task, validators, settler = chain
    settlement = settler.settle(1, validators, {v.address: outcome(b"honest") for v in validators})
    assert settlement.disputes == [] and len(settlement.proposals) == 1
    assert settlement.proposals[0].attesters == [v.address for v in validators] and settlement.proposals[0].final
    assert system.market.rounds_done(task) == 1
    assert settlement.finalized_at >= system.market.proposal(task, 1, settlement.final_hash).quorum_at + 600


def test_a_self_paying_minority_is_outvoted_slashed_and_dropped(chain):
    system, task, validators, settler = chain
    outcomes = {v.address: outcome(b"honest") for v in validators[:3]} | {validators[3].address: outcome(b"greedy")}
    settlement = settler.settle(2 - 1, validators, outcomes)
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
        settler.settle(1, validators, outcomes)
