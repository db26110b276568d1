import pytest
from eth_utils import keccak

from deployers import TOKEN, WINDOW, Rewards, finalize, propose_and_attest, staked_task
from fedstake.chain.market import ZERO32, RoundResult, chain_provenance
from fedstake.errors import ContractRevert


@pytest.fixture
def task(system, actors):
    return staked_task(system, actors, budget=1_000 * TOKEN, rounds=3)


def rewards(actors, amount=5 * TOKEN, rounds=1):
    return Rewards({actors.trainer.address: (amount, rounds), actors.second_trainer.address: (3, rounds)})


def test_propose_records_the_result_and_attests_it(system, actors, task):
    result = rewards(actors).result()
    result_hash = system.market.propose_round(task, 1, result, sender=actors.validator)
    assert result_hash == result.hash(task, 1)  # the contract's own hash, from its event
    proposal = system.market.proposal(task, 1, result_hash)
    assert proposal.result == result and proposal.proposer == actors.validator.address
    assert proposal.weight == 100 * TOKEN and proposal.quorum_at == 0
    assert system.market.view("attested", task, 1, actors.validator.address) == result_hash


def test_propose_by_non_validator_reverts(system, actors, task):
    with pytest.raises(ContractRevert, match="tasks: caller is not a validator"):
        system.market.propose_round(task, 1, rewards(actors).result(), sender=actors.outsider)


def test_propose_out_of_order_reverts(system, actors, task):
    with pytest.raises(ContractRevert, match="rounds: wrong round"):
        system.market.propose_round(task, 2, rewards(actors).result(), sender=actors.validator)


def test_propose_twice_reverts(system, actors, task):
    system.market.propose_round(task, 1, rewards(actors).result(), sender=actors.validator)
    with pytest.raises(ContractRevert, match="rounds: already proposed"):
        system.market.propose_round(task, 1, rewards(actors).result(), sender=actors.second_validator)


def test_propose_cannot_lower_cumulative_rewards(system, actors, task):
    finalize(system, actors, task, 1, rewards(actors, 5 * TOKEN).result())
    with pytest.raises(ContractRevert, match="rounds: rewards decreased"):
        system.market.propose_round(task, 2, Rewards({actors.trainer.address: (1, 2)}).result(),
                                    sender=actors.validator)


def test_propose_cannot_commit_more_than_the_budget(system, actors, task):
    with pytest.raises(ContractRevert, match="rounds: rewards exceed budget"):
        system.market.propose_round(task, 1, rewards(actors, 1_000 * TOKEN).result(), sender=actors.validator)


def test_propose_after_the_last_round_reverts(system, actors):
    task = staked_task(system, actors, rounds=1)
    finalize(system, actors, task, 1, rewards(actors).result())
    with pytest.raises(ContractRevert, match="rounds: all rounds done"):
        system.market.propose_round(task, 2, rewards(actors, rounds=2).result(), sender=actors.validator)


def test_attest_adds_weight_and_two_thirds_reach_quorum(system, actors, task):
    result_hash = propose_and_attest(system, actors, task, 1, rewards(actors).result())
    proposal = system.market.proposal(task, 1, result_hash)
    assert proposal.weight == 200 * TOKEN and proposal.quorum_at == system.backend.timestamp()
    assert system.market.view("quorum_result", task, 1) == result_hash


@pytest.mark.parametrize("who, reason", [("validator", "rounds: already attested"),
                                         ("outsider", "tasks: caller is not a validator")])
def test_attest_rejects_repeat_and_outsiders(system, actors, task, who, reason):
    result_hash = system.market.propose_round(task, 1, rewards(actors).result(), sender=actors.validator)
    with pytest.raises(ContractRevert, match=reason):
        system.market.attest_round(task, 1, result_hash, sender=getattr(actors, who))


def test_attest_unknown_result_reverts(system, actors, task):
    with pytest.raises(ContractRevert, match="rounds: unknown result"):
        system.market.attest_round(task, 1, keccak(b"nothing"), sender=actors.validator)


def test_conflicting_proposals_are_decided_by_attestation_not_by_order(system, actors, task):
    first = system.market.propose_round(task, 1, rewards(actors).result(b"first"), sender=actors.validator)
    second = system.market.propose_round(task, 1, rewards(actors).result(b"second"), sender=actors.second_validator)
    system.market.attest_round(task, 1, second, sender=actors.third_validator)
    assert system.market.view("quorum_result", task, 1) == second != first
    system.backend.advance_time(WINDOW)
    system.market.finalize_round(task, 1, sender=actors.outsider)
    assert system.market.final_result(task, 1) == rewards(actors).result(b"second")


def test_one_third_is_no_quorum_and_cannot_be_finalised(system, actors, task):
    system.market.propose_round(task, 1, rewards(actors).result(), sender=actors.validator)
    system.backend.advance_time(WINDOW)
    with pytest.raises(ContractRevert, match="rounds: no quorum"):
        system.market.finalize_round(task, 1, sender=actors.outsider)


def test_finalize_waits_for_the_challenge_window(system, actors, task):
    propose_and_attest(system, actors, task, 1, rewards(actors).result())
    system.backend.advance_time(WINDOW - 10)
    with pytest.raises(ContractRevert, match="rounds: challenge window open"):
        system.market.finalize_round(task, 1, sender=actors.outsider)


def test_finalize_commits_the_rewards_root_and_extends_the_provenance(system, actors, task):
    table = rewards(actors)
    result = table.result()
    finalize(system, actors, task, 1, result)
    market = system.market
    assert market.rounds_done(task) == 1 and market.rewards_root(task) == table.tree.root
    assert market.view("committed", task) == table.total
    assert market.view("latest_model_hash", task) == result.model_hash
    assert market.view("provenance", task) == chain_provenance(ZERO32, 1, result)
    assert market.final_result(task, 1) == result and market.final_result(task, 2) is None


def test_finalize_out_of_order_reverts(system, actors, task):
    with pytest.raises(ContractRevert, match="rounds: wrong round"):
        system.market.finalize_round(task, 2, sender=actors.outsider)


def test_epoch_settlement_moves_the_root_every_k_rounds_and_at_the_end(system, actors):
    task = staked_task(system, actors, rounds=3, settle_every=2)
    market = system.market
    with pytest.raises(ContractRevert, match="rounds: not a settlement round"):
        market.propose_round(task, 1, rewards(actors).result(), sender=actors.validator)
    finalize(system, actors, task, 1, RoundResult(keccak(b"m1"), b"\x01" * 32))
    assert market.rewards_root(task) == ZERO32
    two = rewards(actors, 5 * TOKEN, 2)
    finalize(system, actors, task, 2, two.result(b"m2"))
    assert market.rewards_root(task) == two.tree.root
    three = rewards(actors, 8 * TOKEN, 3)
    finalize(system, actors, task, 3, three.result(b"m3"))
    assert market.rewards_root(task) == three.tree.root and market.view("committed", task) == three.total


def test_round_seed_depends_on_the_previous_final_model(system, actors, task):
    first = system.market.round_seed(task, 1)
    finalize(system, actors, task, 1, rewards(actors).result())
    second = system.market.round_seed(task, 2)
    assert first != second and system.market.round_seed(task, 1) == first
    expected = keccak(b"\x11" * 32 + (2).to_bytes(32, "big") + keccak(b"model"))
    assert second == expected


def test_round_seed_of_a_future_round_or_unknown_task_reverts(system, actors, task):
    with pytest.raises(ContractRevert, match="rounds: round not open"):
        system.market.round_seed(task, 2)
    with pytest.raises(ContractRevert, match="tasks: unknown task"):
        system.market.round_seed(99, 1)
