import pytest

from deployers import TOKEN, Rewards, finalize, staked_task
from fedstake.errors import ContractRevert


@pytest.fixture
def task(system, actors):
    return staked_task(system, actors, budget=1_000 * TOKEN, rounds=3)


def test_register_gives_one_reputation_point_once(system, actors):
    system.market.register(sender=actors.trainer)
    assert system.market.reputation(actors.trainer.address) == 1
    with pytest.raises(ContractRevert, match="claims: already registered"):
        system.market.register(sender=actors.trainer)


def test_claim_pays_once_and_raises_reputation_by_accepted_rounds(system, actors, task):
    system.market.register(sender=actors.trainer)
    table = Rewards({actors.trainer.address: (5 * TOKEN, 1), actors.second_trainer.address: (3, 1)})
    finalize(system, actors, task, 1, table.result())
    system.market.claim(task, *table.ticket(actors.trainer.address), sender=actors.trainer)
    assert system.token.balance_of(actors.trainer.address) == 5 * TOKEN
    assert system.market.claimed(task, actors.trainer.address) == 5 * TOKEN
    assert system.market.reputation(actors.trainer.address) == 2
    assert system.market.view("escrow_left", task) == 995 * TOKEN
    with pytest.raises(ContractRevert, match="claims: nothing to claim"):
        system.market.claim(task, *table.ticket(actors.trainer.address), sender=actors.trainer)


def test_a_claim_logs_its_accepted_rounds_and_the_reputation_it_reaches(system, actors, task):
    trainer = actors.trainer.address
    system.market.register(sender=actors.trainer)
    two = Rewards({trainer: (5 * TOKEN, 1)})
    finalize(system, actors, task, 1, two.result(b"m1"))
    receipt = system.market.claim(task, *two.ticket(trainer), sender=actors.trainer)
    (claimed,) = system.market.handle.events(receipt, "Claimed")
    assert claimed == dict(task_id=task, account=trainer, amount=5 * TOKEN, accepted_rounds=1)
    (changed,) = system.market.handle.events(receipt, "ReputationChanged")
    assert changed == dict(account=trainer, task_id=task, reputation=2)


def test_a_claim_that_adds_no_reputation_logs_no_change(system, actors):
    """A task paying less than the reputation unit per round earns no point: nothing moves, nothing is logged."""
    tiny = staked_task(system, actors, budget=3, rounds=3)
    trainer = actors.trainer.address
    table = Rewards({trainer: (1, 1)})
    finalize(system, actors, tiny, 1, table.result(b"m1"))
    receipt = system.market.claim(tiny, *table.ticket(trainer), sender=actors.trainer)
    assert system.market.handle.events(receipt, "ReputationChanged") == []
    assert system.market.handle.events(receipt, "Claimed")[0]["accepted_rounds"] == 1


def test_one_claim_covers_several_rounds_and_a_later_claim_pays_the_difference(system, actors, task):
    trainer = actors.trainer.address
    finalize(system, actors, task, 1, Rewards({trainer: (2 * TOKEN, 1)}).result(b"m1"))
    two = Rewards({trainer: (5 * TOKEN, 2)})
    finalize(system, actors, task, 2, two.result(b"m2"))
    system.market.claim(task, *two.ticket(trainer), sender=actors.trainer)
    three = Rewards({trainer: (9 * TOKEN, 3)})
    finalize(system, actors, task, 3, three.result(b"m3"))
    system.market.claim(task, *three.ticket(trainer), sender=actors.trainer)
    assert system.token.balance_of(trainer) == 9 * TOKEN
    assert system.market.view("counted_rounds", task, trainer) == 3
    assert system.market.reputation(trainer) == 3  # never registered: starts from zero


def test_accepted_rounds_without_new_reward_can_still_be_claimed_for_reputation(system, actors, task):
    trainer = actors.trainer.address
    one = Rewards({trainer: (2, 1)})
    finalize(system, actors, task, 1, one.result(b"m1"))
    system.market.claim(task, *one.ticket(trainer), sender=actors.trainer)
    two = Rewards({trainer: (2, 2)})
    finalize(system, actors, task, 2, two.result(b"m2"))
    system.market.claim(task, *two.ticket(trainer), sender=actors.trainer)
    assert system.market.reputation(trainer) == 2 and system.token.balance_of(trainer) == 2


def test_claim_with_a_wrong_amount_rounds_or_sender_fails_the_proof(system, actors, task):
    table = Rewards({actors.trainer.address: (5, 1), actors.second_trainer.address: (3, 1)})
    finalize(system, actors, task, 1, table.result())
    value, rounds, proof = table.ticket(actors.trainer.address)
    for args, who in [((value + 1, rounds), actors.trainer), ((value, rounds - 1), actors.trainer),
                      ((value, rounds), actors.outsider)]:
        with pytest.raises(ContractRevert, match="claims: invalid proof"):
            system.market.claim(task, *args, proof, sender=who)


def test_claim_of_an_older_leaf_is_stale(system, actors, task):
    trainer = actors.trainer.address
    one = Rewards({trainer: (2, 1), actors.second_trainer.address: (1, 1)})
    finalize(system, actors, task, 1, one.result(b"m1"))
    two = Rewards({trainer: (5, 2), actors.second_trainer.address: (1, 1)})
    finalize(system, actors, task, 2, two.result(b"m2"))
    system.market.claim(task, *two.ticket(trainer), sender=actors.trainer)
    with pytest.raises(ContractRevert, match="claims: invalid proof"):  # only the latest root counts
        system.market.claim(task, *one.ticket(trainer), sender=actors.trainer)


def test_claim_before_any_final_root_reverts(system, actors, task):
    with pytest.raises(ContractRevert, match="claims: no rewards yet"):
        system.market.claim(task, 1, 1, [], sender=actors.trainer)


def test_claims_never_exceed_the_escrow_even_if_a_root_overpromises(system, actors):
    task = staked_task(system, actors, budget=100 * TOKEN, rounds=1)
    table = Rewards({actors.trainer.address: (100 * TOKEN, 1), actors.second_trainer.address: (0, 1)})
    overpromise = Rewards({actors.trainer.address: (100 * TOKEN, 1), actors.second_trainer.address: (100 * TOKEN, 1)})
    result = table.result()
    finalize(system, actors, task, 1, type(result)(result.model_hash, result.updates_root, overpromise.tree.root,
                                                    100 * TOKEN))
    system.market.claim(task, *overpromise.ticket(actors.trainer.address), sender=actors.trainer)
    with pytest.raises(ContractRevert, match="tasks: exceeds escrow"):
        system.market.claim(task, *overpromise.ticket(actors.second_trainer.address), sender=actors.second_trainer)


def test_values_beyond_the_packed_range_are_refused(system, actors, task):
    table = Rewards({actors.trainer.address: (2**128, 1)})
    finalize(system, actors, task, 1, type(table.result())(b"\x01" * 32, b"\x02" * 32, table.tree.root, 0))
    with pytest.raises(ContractRevert, match="claims: value out of range"):
        system.market.claim(task, *table.ticket(actors.trainer.address), sender=actors.trainer)
