import pytest

from deployers import TOKEN, Rewards, finalize, staked_task
from fedstake.chain.market import ZERO32, chain_provenance
from fedstake.errors import ContractRevert


def test_close_after_the_last_round_refunds_uncommitted_budget_and_mints_the_model(system, actors):
    task = staked_task(system, actors, budget=100 * TOKEN, rounds=2)
    one = Rewards({actors.trainer.address: (10 * TOKEN, 1)})
    r1 = one.result(b"m1")
    finalize(system, actors, task, 1, r1)
    two = Rewards({actors.trainer.address: (30 * TOKEN, 2)})
    r2 = two.result(b"m2")
    finalize(system, actors, task, 2, r2)
    assert system.market.close_task(task, sender=actors.requester) == 70 * TOKEN
    assert system.token.balance_of(actors.requester.address) == 70 * TOKEN
    system.models.mint_model(task, sender=actors.outsider)
    record = system.models.record(task)
    assert system.models.owner_of(task) == actors.requester.address
    assert record.model_hash == r2.model_hash and record.rounds == 2 and record.task_id == task
    assert record.provenance == chain_provenance(chain_provenance(ZERO32, 1, r1), 2, r2)
    assert system.models.token_uri(task) == f"fedstake:model:{task}"
    system.market.claim(task, *two.ticket(actors.trainer.address), sender=actors.trainer)  # still claimable
    assert system.token.balance_of(system.market.address) == 0


def test_close_while_running_reverts(system, actors):
    task = staked_task(system, actors)
    with pytest.raises(ContractRevert, match="market: task still running"):
        system.market.close_task(task, sender=actors.requester)


def test_close_after_the_deadline_refunds_everything_and_mints_nothing(system, actors):
    task = staked_task(system, actors, budget=50 * TOKEN)
    system.backend.advance_time(10**6 + 1)
    assert system.market.close_task(task, sender=actors.requester) == 50 * TOKEN
    assert system.token.balance_of(actors.requester.address) == 50 * TOKEN
    with pytest.raises(ContractRevert, match="erc721: invalid token ID"):
        system.models.owner_of(task)


def test_anyone_closes_an_ended_task_once_and_the_refund_goes_to_the_requester(system, actors):
    task = staked_task(system, actors, budget=40 * TOKEN)
    system.backend.advance_time(10**6 + 1)
    assert system.market.close_task(task, sender=actors.outsider) == 40 * TOKEN
    assert system.token.balance_of(actors.requester.address) == 40 * TOKEN
    with pytest.raises(ContractRevert, match="tasks: task closed"):
        system.market.close_task(task, sender=actors.requester)


def test_a_root_that_overpromises_never_blocks_the_refund(system, actors):
    task = staked_task(system, actors, budget=100 * TOKEN, rounds=2)
    greedy = Rewards({actors.trainer.address: (90 * TOKEN, 1), actors.second_trainer.address: (90 * TOKEN, 1)})
    result = greedy.result()
    finalize(system, actors, task, 1, type(result)(result.model_hash, result.updates_root, result.rewards_root,
                                                   10 * TOKEN))  # leaves sum to more than the committed total
    system.market.claim(task, *greedy.ticket(actors.trainer.address), sender=actors.trainer)
    system.backend.advance_time(10**6 + 1)
    assert system.market.close_task(task, sender=actors.requester) == 10 * TOKEN  # what is left, not 90
    assert system.token.balance_of(system.market.address) == 0


def test_nothing_but_new_tasks_stops_when_paused(system, actors):
    task = staked_task(system, actors, budget=100 * TOKEN, rounds=1)
    table = Rewards({actors.trainer.address: (10 * TOKEN, 1)})
    finalize(system, actors, task, 1, table.result())
    system.market.pause(sender=actors.owner)
    system.market.claim(task, *table.ticket(actors.trainer.address), sender=actors.trainer)
    assert system.market.close_task(task, sender=actors.requester) == 90 * TOKEN
    system.market.release_bond(task, actors.validator.address, sender=actors.validator)
    system.registry.request_unbond(100 * TOKEN, sender=actors.validator)
    system.backend.advance_time(7 * 24 * 3600)
    system.registry.withdraw(sender=actors.validator)
