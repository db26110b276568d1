"""The nine transaction sequences a review of the contracts found (issue 16).

Each test plays the sequence the review reproduced and asserts what must
hold instead: every one of them failed on the contracts before the fix.
"""

import pytest
from eth_utils import keccak

from deployers import (
    BOND, PARAMS, TOKEN, UNBOND_DELAY, WINDOW, Rewards, attempt, deploy, finalize, fund, join, open_task,
    propose_and_attest, stake, staked_task,
)
from fedstake.chain.accounts import derive_account
from fedstake.chain.compiler import load_artifact
from fedstake.chain.contract import deploy_contract
from fedstake.chain.eip712 import sign_digest, typed_digest
from fedstake.chain.market import TaskMarket, commitment_leaf, commitment_struct_hash
from fedstake.chain.merkle import MerkleTree
from fedstake.chain.staking import Role
from fedstake.errors import ContractRevert

UPDATE = b"\x07" * 32


def bonds(system, actors, amount=10 * BOND):
    fund(system, actors.challenger, amount)
    system.token.approve(system.market.address, amount, sender=actors.challenger)


def signed_commitment(system, task, round, trainer):
    hashed = commitment_struct_hash(task, round, trainer.address, UPDATE, 40, b"\x00" * 32)
    return hashed, sign_digest(typed_digest(system.market.domain(), hashed), trainer.private_key)


def bonded_trainer_task(system, actors):
    """A one-round task the trainer joined with 20 tokens, its signed round-1 commitment and the
    updates tree that holds it; the challenger has bonds to spend."""
    task = staked_task(system, actors, rounds=1)
    join(system, actors.trainer, task, 20 * TOKEN)
    bonds(system, actors)
    hashed, signature = signed_commitment(system, task, 1, actors.trainer)
    return task, hashed, signature, MerkleTree([commitment_leaf(hashed), keccak(b"other")])


def challenge_commitment(system, actors, task, round, result_hash, trainer, hashed, signature, tree):
    return system.market.challenge_update(
        task, round, result_hash, trainer=trainer.address, update_hash=UPDATE, samples=40,
        transcript_root=b"\x00" * 32, signature=signature, proof=tree.proof(commitment_leaf(hashed)),
        sender=actors.challenger)


def vote(system, dispute, uphold, voters):
    for v in voters:
        system.market.vote(dispute, uphold, sender=v)


# 1. High: a result dispute can never resolve if someone attests after it opens.

@pytest.mark.parametrize("uphold", [True, False])
def test_1_a_late_attestation_never_leaves_a_dispute_unresolvable(system, actors, uphold):
    task = staked_task(system, actors, rounds=1)
    bonds(system, actors)
    market, v1, v2, v3 = system.market, *actors.validators
    result = Rewards({actors.trainer.address: (5 * TOKEN, 1)}).result()
    result_hash = market.propose_round(task, 1, result, sender=v1)
    dispute = market.challenge_result(task, 1, result_hash, sender=actors.challenger)
    attempt(lambda: market.attest_round(task, 1, result_hash, sender=v2))  # late: refused, or harmless
    vote(system, dispute, uphold, (v1, v2, v3))
    assert market.resolve(dispute, sender=actors.outsider)[0] == uphold
    if not uphold:
        attempt(lambda: market.attest_round(task, 1, result_hash, sender=v2))
        system.backend.advance_time(WINDOW)
        market.finalize_round(task, 1, sender=actors.outsider)
    system.backend.advance_time(10**6 + 1)
    market.close_task(task, sender=actors.requester)
    for v in actors.validators:  # nobody's stake or the bond stays stuck
        market.release_bond(task, v.address, sender=actors.outsider)
        system.registry.request_unbond(system.registry.stake_of(v.address), sender=v)
    assert market.view("bonds_held") == 0


# 2. High: task weight is a snapshot, but the stake behind it could leave.

def test_2_a_validators_weight_stays_bonded_until_the_task_closes(system, actors):
    v1, v2, heavy = actors.validators
    for v in (v1, v2):
        stake(system, v, 100 * TOKEN, Role.VALIDATOR)
    stake(system, heavy, 1_000 * TOKEN, Role.VALIDATOR)  # just before the task
    task = open_task(system, actors.requester, actors.validators)
    weight = system.market.view("weight", task, heavy.address)
    assert not attempt(lambda: system.registry.request_unbond(1_000 * TOKEN, sender=heavy))
    system.backend.advance_time(UNBOND_DELAY)
    attempt(lambda: system.registry.withdraw(sender=heavy))
    assert system.registry.bond_of(system.market.address, task, heavy.address) >= weight > 0
    assert system.registry.stake_of(heavy.address) >= weight


def test_2_the_same_stake_backs_one_task_at_a_time(system, actors):
    task = staked_task(system, actors)
    assert not attempt(lambda: open_task(system, actors.requester, actors.validators, asks=(100 * TOKEN,) * 3))
    assert system.market.view("weight", task, actors.validator.address) == 100 * TOKEN
    assert system.registry.bonded_of(actors.validator.address) == 100 * TOKEN


def test_2_a_trainer_cannot_leave_ahead_of_its_dispute(system, actors):
    task, hashed, signature, updates = bonded_trainer_task(system, actors)
    attempt(lambda: system.registry.request_unbond(20 * TOKEN, sender=actors.trainer))
    system.backend.advance_time(UNBOND_DELAY)
    attempt(lambda: system.registry.withdraw(sender=actors.trainer))
    table = Rewards({actors.trainer.address: (5 * TOKEN, 1)})
    result_hash = propose_and_attest(system, actors, task, 1, table.result(updates_root=updates.root))
    dispute = challenge_commitment(system, actors, task, 1, result_hash, actors.trainer, hashed, signature, updates)
    vote(system, dispute, True, actors.validators)
    assert system.market.resolve(dispute, sender=actors.outsider) == (True, 20 * TOKEN)


# 3. Medium: unlimited reputation.

def test_3_reputation_is_capped_by_the_rounds_done_and_weighted_by_the_task(system, actors):
    market, sybil = system.market, actors.trainer
    market.register(sender=sybil)
    stake(system, actors.validator, 200 * TOKEN, Role.VALIDATOR)
    task = open_task(system, actors.requester, (actors.validator,), asks=(100 * TOKEN,), budget=1, rounds=1)
    table = Rewards({sybil.address: (1, 2**64 - 1), actors.second_trainer.address: (0, 1)})
    market.propose_round(task, 1, table.result(), sender=actors.validator)  # alone: its own quorum
    system.backend.advance_time(WINDOW)
    market.finalize_round(task, 1, sender=actors.outsider)
    attempt(lambda: market.claim(task, *table.ticket(sybil.address), sender=sybil))
    assert market.reputation(sybil.address) <= 1 + 1
    cheap = Rewards({sybil.address: (1, 1)})
    task = open_task(system, actors.requester, (actors.validator,), asks=(100 * TOKEN,), budget=1, rounds=1)
    market.propose_round(task, 1, cheap.result(), sender=actors.validator)
    system.backend.advance_time(WINDOW)
    market.finalize_round(task, 1, sender=actors.outsider)
    before = market.reputation(sybil.address)
    market.claim(task, *cheap.ticket(sybil.address), sender=sybil)
    assert market.reputation(sybil.address) == before  # a 1-wei round is worth no reputation


# 4. Medium: one commitment could be slashed again and again.

def test_4_a_commitment_is_slashed_once(system, actors):
    task, hashed, signature, updates = bonded_trainer_task(system, actors)
    table = Rewards({actors.trainer.address: (5 * TOKEN, 1)})
    result_hash = propose_and_attest(system, actors, task, 1, table.result(updates_root=updates.root))
    dispute = challenge_commitment(system, actors, task, 1, result_hash, actors.trainer, hashed, signature, updates)
    vote(system, dispute, True, actors.validators)
    system.market.resolve(dispute, sender=actors.outsider)
    with pytest.raises(ContractRevert, match="disputes: already disputed"):
        challenge_commitment(system, actors, task, 1, result_hash, actors.trainer, hashed, signature, updates)


# 5. Medium: with every validator dropped, quorum was automatic and the escrow locked.

def test_5_no_quorum_without_weight_and_the_escrow_always_refunds(system, actors):
    market = system.market
    task = staked_task(system, actors, budget=1_000 * TOKEN, rounds=2)
    bonds(system, actors)
    one = Rewards({actors.trainer.address: (500 * TOKEN, 1)})
    finalize(system, actors, task, 1, one.result(b"m1"))
    market.claim(task, *one.ticket(actors.trainer.address), sender=actors.trainer)
    bad = Rewards({actors.trainer.address: (1_000 * TOKEN, 2)}).result(b"bad")
    bad_hash = market.propose_round(task, 2, bad, sender=actors.validator)
    for v in actors.validators[1:]:
        market.attest_round(task, 2, bad_hash, sender=v)
    dispute = market.challenge_result(task, 2, bad_hash, sender=actors.challenger)
    vote(system, dispute, True, actors.validators)
    assert market.resolve(dispute, sender=actors.outsider)[0]
    assert market.view("total_weight", task) == 0
    nobody = keccak(b"never proposed")
    attempt(lambda: market.check_quorum(task, 2, nobody, sender=actors.outsider))
    assert market.view("quorum_result", task, 2) == b"\x00" * 32
    system.backend.advance_time(10**6 + 1)
    assert market.close_task(task, sender=actors.requester) == 500 * TOKEN
    assert system.token.balance_of(market.address) == 0


# 6. Low: the model NFT could be pre-minted, which blocked the refund.

def test_6_nobody_but_the_market_mints_and_the_refund_never_waits_for_the_mint(system, actors):
    task = staked_task(system, actors, budget=100 * TOKEN, rounds=1)
    assert not attempt(lambda: system.models.mint_model(task, sender=actors.owner))  # nothing to record yet
    finalize(system, actors, task, 1, Rewards({actors.trainer.address: (10 * TOKEN, 1)}).result())
    assert system.market.close_task(task, sender=actors.requester) == 90 * TOKEN  # no mint inside
    system.models.mint_model(task, sender=actors.outsider)
    assert system.models.owner_of(task) == actors.requester.address


def test_6_a_second_market_cannot_share_the_model_registry(backend, actors):
    system = deploy(backend, actors)
    second = TaskMarket(deploy_contract(
        backend, load_artifact("TaskMarket"),
        (system.token.address, system.registry.address, PARAMS.challenge_window,
         PARAMS.dispute_tuple(actors.insurance.address), PARAMS.reputation_unit), actors.owner))
    assert "set_minter" not in {e.get("name") for e in system.models.handle.artifact.abi}
    assert not attempt(lambda: system.models.bind_market(second.address, sender=actors.owner))


# 7. Low: an attester could challenge its own result and collect the bounty on its co-attesters.

def test_7_no_bounty_to_a_challenger_that_is_not_a_dissenting_validator(system, actors):
    market, v1, v2, v3 = system.market, *actors.validators
    task = staked_task(system, actors, rounds=1)
    bad = Rewards({actors.trainer.address: (900 * TOKEN, 1)}).result(b"bad")
    bad_hash = market.propose_round(task, 1, bad, sender=v1)
    market.attest_round(task, 1, bad_hash, sender=v2)
    alias = derive_account(99, "alias of v2")  # an address the contract cannot tie to v2
    fund(system, alias, BOND)
    system.token.approve(market.address, BOND, sender=alias)
    dispute = market.challenge_result(task, 1, bad_hash, sender=alias)
    vote(system, dispute, True, (v2, v3))
    market.vote(dispute, True, sender=v1)
    assert market.resolve(dispute, sender=actors.outsider)[0]
    assert system.token.balance_of(alias.address) == BOND  # the bond back, no bounty


# 8. Low: dispute eligibility was fixed at opening while votes used current weight.

def test_8_votes_count_with_the_weight_the_voters_still_have(system, actors):
    market = system.market
    fourth = derive_account(99, "fourth validator")
    crew = (*actors.validators, fourth)
    for v in crew:
        stake(system, v, 100 * TOKEN, Role.VALIDATOR)
    task = open_task(system, actors.requester, crew, rounds=1)
    bonds(system, actors)
    join(system, actors.trainer, task, 20 * TOKEN)
    hashed, signature = signed_commitment(system, task, 1, actors.trainer)
    updates = MerkleTree([commitment_leaf(hashed), keccak(b"other")])
    bad = Rewards({actors.trainer.address: (5 * TOKEN, 1)}).result(b"rival", updates_root=updates.root)
    honest = Rewards({actors.trainer.address: (5 * TOKEN, 1)}).result(b"honest", updates_root=updates.root)
    honest_hash = market.propose_round(task, 1, honest, sender=actors.validator)
    for v in (actors.second_validator, actors.third_validator):
        market.attest_round(task, 1, honest_hash, sender=v)
    cheat = challenge_commitment(system, actors, task, 1, honest_hash, actors.trainer, hashed, signature, updates)
    market.vote(cheat, False, sender=fourth)  # then the fourth validator is slashed out of the task
    bad_hash = market.propose_round(task, 1, bad, sender=fourth)
    rival = market.challenge_result(task, 1, bad_hash, sender=actors.challenger)
    vote(system, rival, True, actors.validators)
    assert market.resolve(rival, sender=actors.outsider)[0]
    vote(system, cheat, True, actors.validators[:2])  # two of the three that remain
    assert market.resolve(cheat, sender=actors.outsider)[0]


# 9. Low: no minimum challenge bond.

def test_9_a_market_needs_a_challenge_bond(backend, actors):
    from dataclasses import replace

    with pytest.raises(ContractRevert, match="disputes: bond below minimum"):
        deploy(backend, actors, replace(PARAMS, challenge_bond=0))
