import dataclasses

import pytest
from eth_utils import keccak

from deployers import BOND, TOKEN, VOTE_PERIOD, WINDOW, Rewards, fund, join, propose_and_attest, staked_task
from fedstake.chain.eip712 import sign_digest, typed_digest
from fedstake.chain.market import (
    DisputeKind, DisputeStatus, RoundResult, commitment_leaf, commitment_struct_hash, scores_leaf,
)
from fedstake.chain.merkle import MerkleTree
from fedstake.errors import ContractRevert

UPDATE_HASH = b"\x07" * 32


@pytest.fixture
def world(system, actors):
    """A task with a bonded trainer whose signed commitment is in round 1's quorum result."""
    task = staked_task(system, actors, budget=1_000 * TOKEN, rounds=2)
    join(system, actors.trainer, task, 20 * TOKEN)
    system.market.register(sender=actors.trainer)
    hashed = commitment_struct_hash(task, 1, actors.trainer.address, UPDATE_HASH, 40, b"\x00" * 32)
    signature = sign_digest(typed_digest(system.market.domain(), hashed), actors.trainer.private_key)
    updates = MerkleTree([commitment_leaf(hashed), keccak(b"other update")])
    table = Rewards({actors.trainer.address: (6 * TOKEN, 1), actors.second_trainer.address: (4 * TOKEN, 1)})
    scores = MerkleTree([scores_leaf(v.address, keccak(v.address.encode())) for v in actors.validators])
    result = dataclasses.replace(table.result(updates_root=updates.root), scores_root=scores.root)
    result_hash = propose_and_attest(system, actors, task, 1, result)
    fund(system, actors.challenger, 10 * BOND)
    system.token.approve(system.market.address, 10 * BOND, sender=actors.challenger)
    return dict(task=task, hashed=hashed, signature=signature, updates=updates, table=table, result=result,
                result_hash=result_hash, scores=scores)


def challenge(system, actors, w, **change):
    args = dict(trainer=actors.trainer.address, update_hash=UPDATE_HASH, samples=40, transcript_root=b"\x00" * 32,
                signature=w["signature"], proof=w["updates"].proof(commitment_leaf(w["hashed"])))
    args.update(change)
    return system.market.challenge_update(w["task"], 1, w["result_hash"], sender=actors.challenger, **args)


def vote_all(system, actors, dispute, uphold, voters=None):
    for v in voters or actors.validators:
        system.market.vote(dispute, uphold, sender=v)


def test_challenge_update_opens_a_dispute_and_holds_claims_and_the_bond(system, actors, world):
    """The contract recovers the trainer from a commitment signed in Python: both sides hash the
    EIP-712 digest alike (a different digest would recover another address: "bad signature")."""
    dispute = challenge(system, actors, world)
    d = system.market.dispute(dispute)
    assert (d.kind, d.accused, d.challenger, d.attesters, d.status) == (
        DisputeKind.UPDATE, actors.trainer.address, actors.challenger.address, 0, DisputeStatus.OPEN)
    assert system.market.tally(dispute).eligible == 300 * TOKEN
    assert system.market.view("holds", world["task"], actors.trainer.address) == 1
    assert system.market.view("bonds_held") == BOND
    assert system.token.balance_of(actors.challenger.address) == 9 * BOND


@pytest.mark.parametrize("change, reason", [
    (dict(samples=41), "disputes: bad signature"),
    (dict(trainer="0x" + "12" * 20), "disputes: bad signature"),
    (dict(proof=[keccak(b"wrong")]), "disputes: not in updates root"),
])
def test_challenge_update_needs_the_trainers_signature_and_inclusion(system, actors, world, change, reason):
    with pytest.raises(ContractRevert, match=reason):
        challenge(system, actors, world, **change)


def test_challenge_update_only_on_the_quorum_result_within_its_window(system, actors, world):
    system.backend.advance_time(WINDOW)
    with pytest.raises(ContractRevert, match="disputes: window closed"):
        challenge(system, actors, world)
    with pytest.raises(ContractRevert, match="disputes: not the quorum result"):
        system.market.challenge_update(world["task"], 1, keccak(b"x"), trainer=actors.trainer.address,
                                       update_hash=UPDATE_HASH, samples=40, transcript_root=b"\x00" * 32,
                                       signature=world["signature"], proof=[], sender=actors.challenger)


def test_the_same_commitment_cannot_be_disputed_twice_at_once(system, actors, world):
    challenge(system, actors, world)
    with pytest.raises(ContractRevert, match="disputes: already disputed"):
        challenge(system, actors, world)


def test_challenge_without_bond_allowance_reverts(system, actors, world):
    system.token.approve(system.market.address, 0, sender=actors.challenger)
    with pytest.raises(ContractRevert, match="erc20: insufficient allowance"):
        challenge(system, actors, world)


def test_upheld_update_dispute_slashes_the_trainer_pays_the_bounty_and_forfeits_rewards(system, actors, world):
    dispute = challenge(system, actors, world)
    vote_all(system, actors, dispute, True, actors.validators[:2])
    upheld, slashed = system.market.resolve(dispute, sender=actors.outsider)
    assert upheld and slashed == 20 * TOKEN
    assert system.registry.stake_of(actors.trainer.address) == 0
    assert system.token.balance_of(actors.challenger.address) == 10 * BOND + 10 * TOKEN  # bond back + half
    assert system.token.balance_of(actors.insurance.address) == 10 * TOKEN
    assert system.market.reputation(actors.trainer.address) == 1  # cut by half, floor one
    assert system.market.view("holds", world["task"], actors.trainer.address) == 0
    system.backend.advance_time(WINDOW)
    system.market.finalize_round(world["task"], 1, sender=actors.outsider)  # trainer disputes do not block rounds
    with pytest.raises(ContractRevert, match="claims: rewards forfeited"):
        system.market.claim(world["task"], *world["table"].ticket(actors.trainer.address), sender=actors.trainer)
    reclaimed = system.market.reclaim_forfeited(world["task"], actors.trainer.address,
                                                *world["table"].ticket(actors.trainer.address), sender=actors.outsider)
    assert reclaimed == 6 * TOKEN and system.token.balance_of(actors.requester.address) == 6 * TOKEN


def test_dismissed_update_dispute_forfeits_the_bond_and_frees_the_trainer(system, actors, world):
    dispute = challenge(system, actors, world)
    vote_all(system, actors, dispute, False, actors.validators[:2])
    upheld, slashed = system.market.resolve(dispute, sender=actors.outsider)
    assert not upheld and slashed == 0
    assert system.token.balance_of(actors.insurance.address) == BOND
    assert system.registry.stake_of(actors.trainer.address) == 20 * TOKEN
    assert system.market.view("holds", world["task"], actors.trainer.address) == 0
    system.backend.advance_time(WINDOW)
    system.market.finalize_round(world["task"], 1, sender=actors.outsider)
    system.market.claim(world["task"], *world["table"].ticket(actors.trainer.address), sender=actors.trainer)


def test_claims_wait_while_a_dispute_is_open(system, actors, world):
    system.backend.advance_time(WINDOW - 5)
    dispute = challenge(system, actors, world)
    system.backend.advance_time(5)
    system.market.finalize_round(world["task"], 1, sender=actors.outsider)
    with pytest.raises(ContractRevert, match="claims: dispute pending"):
        system.market.claim(world["task"], *world["table"].ticket(actors.trainer.address), sender=actors.trainer)
    system.backend.advance_time(VOTE_PERIOD)
    system.market.resolve(dispute, sender=actors.outsider)  # nobody voted: dismissed at the deadline
    system.market.claim(world["task"], *world["table"].ticket(actors.trainer.address), sender=actors.trainer)


def test_a_bond_is_released_only_after_the_task_closed_and_its_disputes_resolved(system, actors, world):
    market, task = system.market, world["task"]
    with pytest.raises(ContractRevert, match="stake: bonded to a task"):
        system.registry.request_unbond(20 * TOKEN, sender=actors.trainer)
    dispute = challenge(system, actors, world)
    system.backend.advance_time(10**6 + 1)
    market.close_task(task, sender=actors.outsider)
    with pytest.raises(ContractRevert, match="market: dispute pending"):
        market.release_bond(task, actors.trainer.address, sender=actors.outsider)
    market.resolve(dispute, sender=actors.outsider)  # past its deadline: dismissed, even on a closed task
    market.release_bond(task, actors.trainer.address, sender=actors.outsider)
    assert system.registry.bonded_of(actors.trainer.address) == 0
    system.registry.request_unbond(20 * TOKEN, sender=actors.trainer)


def test_a_bond_of_an_open_task_cannot_be_released(system, actors, world):
    with pytest.raises(ContractRevert, match="market: task still open"):
        system.market.release_bond(world["task"], actors.trainer.address, sender=actors.trainer)


def test_a_dishonest_result_is_voided_and_its_proposer_slashed(system, actors, world):
    market, task = system.market, world["task"]
    rival = RoundResult(keccak(b"self-paying"), world["updates"].root, keccak(b"root"), world["table"].total + TOKEN)
    rival_hash = market.propose_round(task, 1, rival, sender=actors.third_validator)
    dispute = market.challenge_result(task, 1, rival_hash, sender=actors.challenger)
    assert market.dispute(dispute).attesters == 0b100  # the third seat attested the rival
    market.vote(dispute, False, sender=actors.third_validator)  # the accused votes too, and loses
    vote_all(system, actors, dispute, True, actors.validators[:2])
    upheld, slashed = market.resolve(dispute, sender=actors.outsider)
    assert upheld and slashed == 50 * TOKEN
    assert market.proposal(task, 1, rival_hash).rejected
    assert market.view("weight", task, actors.third_validator.address) == 0
    assert market.view("total_weight", task) == 200 * TOKEN
    with pytest.raises(ContractRevert, match="tasks: caller is not a validator"):
        market.propose_round(task, 1, rival, sender=actors.third_validator)
    system.backend.advance_time(WINDOW)
    market.finalize_round(task, 1, sender=actors.outsider)
    assert market.final_result(task, 1) == world["result"]


def test_a_minority_cannot_overturn_the_majoritys_result_and_blocks_only_until_resolved(system, actors, world):
    market, task = system.market, world["task"]
    dispute = market.challenge_result(task, 1, world["result_hash"], sender=actors.challenger)
    market.vote(dispute, True, sender=actors.third_validator)
    system.backend.advance_time(WINDOW)
    with pytest.raises(ContractRevert, match="rounds: dispute pending"):
        market.finalize_round(task, 1, sender=actors.outsider)
    system.backend.advance_time(VOTE_PERIOD)
    assert not market.resolve(dispute, sender=actors.outsider)[0]  # one third never upholds
    market.finalize_round(task, 1, sender=actors.outsider)
    assert market.final_result(task, 1) == world["result"]


def test_an_upheld_quorum_result_dispute_reopens_the_round(system, actors, world):
    market, task = system.market, world["task"]
    honest = RoundResult(keccak(b"honest"), world["updates"].root, world["table"].tree.root, world["table"].total)
    honest_hash = market.propose_round(task, 1, honest, sender=actors.third_validator)
    dispute = market.challenge_result(task, 1, world["result_hash"], sender=actors.challenger)
    vote_all(system, actors, dispute, True)  # the attesters concede: two thirds uphold
    assert market.resolve(dispute, sender=actors.outsider)[0]
    assert market.view("quorum_result", task, 1) == b"\x00" * 32
    assert market.view("total_weight", task) == 100 * TOKEN  # both attesters slashed out of the task
    market.check_quorum(task, 1, honest_hash, sender=actors.outsider)
    assert market.view("quorum_result", task, 1) == honest_hash


@pytest.mark.parametrize("who, reason", [("outsider", "disputes: caller is not a validator")])
def test_votes_need_task_weight(system, actors, world, who, reason):
    dispute = challenge(system, actors, world)
    with pytest.raises(ContractRevert, match=reason):
        system.market.vote(dispute, True, sender=getattr(actors, who))


def test_vote_twice_or_after_the_deadline_reverts(system, actors, world):
    dispute = challenge(system, actors, world)
    system.market.vote(dispute, True, sender=actors.validator)
    with pytest.raises(ContractRevert, match="disputes: already voted"):
        system.market.vote(dispute, True, sender=actors.validator)
    system.backend.advance_time(VOTE_PERIOD)
    with pytest.raises(ContractRevert, match="disputes: voting closed"):
        system.market.vote(dispute, True, sender=actors.second_validator)


def test_resolve_waits_until_the_outcome_is_decided(system, actors, world):
    dispute = challenge(system, actors, world)
    system.market.vote(dispute, True, sender=actors.validator)
    with pytest.raises(ContractRevert, match="disputes: vote still open"):
        system.market.resolve(dispute, sender=actors.outsider)
    system.market.vote(dispute, True, sender=actors.second_validator)
    system.market.resolve(dispute, sender=actors.outsider)
    with pytest.raises(ContractRevert, match="disputes: not open"):
        system.market.resolve(dispute, sender=actors.outsider)


def test_challenge_result_rules(system, actors, world):
    market, task = system.market, world["task"]
    with pytest.raises(ContractRevert, match="disputes: unknown result"):
        market.challenge_result(task, 1, keccak(b"nothing"), sender=actors.challenger)
    system.backend.advance_time(WINDOW)
    with pytest.raises(ContractRevert, match="disputes: window closed"):
        market.challenge_result(task, 1, world["result_hash"], sender=actors.challenger)
    market.finalize_round(task, 1, sender=actors.outsider)
    with pytest.raises(ContractRevert, match="disputes: round is final"):
        market.challenge_result(task, 1, world["result_hash"], sender=actors.challenger)


def challenge_scores(system, actors, w, liar, scores_hash=None):
    scores_hash = scores_hash or keccak(liar.address.encode())
    proof = w["scores"].proof(scores_leaf(liar.address, keccak(liar.address.encode())))
    return system.market.challenge_scores(w["task"], 1, w["result_hash"], validator=liar.address,
                                          scores_hash=scores_hash, proof=proof, sender=actors.challenger)


def test_upheld_scores_dispute_slashes_the_validator_and_drops_its_weight(system, actors, world):
    liar = actors.third_validator
    dispute = challenge_scores(system, actors, world, liar)
    assert system.market.dispute(dispute).kind == DisputeKind.SCORES
    assert system.market.view("holds", world["task"], liar.address) == 1
    vote_all(system, actors, dispute, True, actors.validators[:2])
    upheld, slashed = system.market.resolve(dispute, sender=actors.outsider)
    assert upheld and slashed == 50 * TOKEN
    assert system.market.view("weight", world["task"], liar.address) == 0
    assert system.market.view("holds", world["task"], liar.address) == 0
    system.backend.advance_time(WINDOW)
    system.market.finalize_round(world["task"], 1, sender=actors.outsider)  # the round itself stands


def test_dismissed_scores_dispute_frees_the_validator(system, actors, world):
    dispute = challenge_scores(system, actors, world, actors.validator)
    vote_all(system, actors, dispute, False, actors.validators[1:])
    assert not system.market.resolve(dispute, sender=actors.outsider)[0]
    assert system.market.view("holds", world["task"], actors.validator.address) == 0


def test_scores_dispute_needs_the_committed_scores(system, actors, world):
    with pytest.raises(ContractRevert, match="disputes: not in scores root"):
        challenge_scores(system, actors, world, actors.validator, scores_hash=keccak(b"other"))
    with pytest.raises(ContractRevert, match="disputes: not a validator of the task"):
        system.market.challenge_scores(world["task"], 1, world["result_hash"], validator=actors.outsider.address,
                                       scores_hash=b"\x00" * 32, proof=[], sender=actors.challenger)


def test_the_opened_dispute_logs_its_bond(system, actors, world):
    receipt = system.market.handle.transact(
        "challenge_result", world["task"], 1, world["result_hash"], b"\x00" * 32, sender=actors.challenger)
    (opened,) = system.market.handle.events(receipt, "DisputeOpened")
    assert opened["bond"] == BOND and opened["kind"] == DisputeKind.RESULT


def test_an_upheld_update_dispute_logs_the_reputation_cut(system, actors, world):
    dispute = challenge(system, actors, world)
    vote_all(system, actors, dispute, True, actors.validators[:2])
    receipt = system.market.handle.transact("resolve", dispute, sender=actors.outsider)
    (changed,) = system.market.handle.events(receipt, "ReputationChanged")
    assert changed == dict(account=actors.trainer.address, task_id=world["task"], reputation=1)
    assert system.market.handle.events(receipt, "ValidatorDropped") == []


def test_a_dismissed_dispute_moves_no_reputation_and_drops_no_validator(system, actors, world):
    dispute = challenge(system, actors, world)
    vote_all(system, actors, dispute, False, actors.validators[:2])
    receipt = system.market.handle.transact("resolve", dispute, sender=actors.outsider)
    assert system.market.handle.events(receipt, "ReputationChanged") == []
    assert system.market.handle.events(receipt, "ValidatorDropped") == []


def test_an_upheld_scores_dispute_logs_the_weight_it_drops(system, actors, world):
    liar = actors.third_validator
    dispute = challenge_scores(system, actors, world, liar)
    vote_all(system, actors, dispute, True, actors.validators[:2])
    receipt = system.market.handle.transact("resolve", dispute, sender=actors.outsider)
    (dropped,) = system.market.handle.events(receipt, "ValidatorDropped")
    assert dropped == dict(task_id=world["task"], validator=liar.address, weight=100 * TOKEN)


def test_an_upheld_result_dispute_logs_the_rejected_result_and_a_dismissed_one_does_not(system, actors, world):
    market, task = system.market, world["task"]
    dispute = market.challenge_result(task, 1, world["result_hash"], sender=actors.challenger)
    vote_all(system, actors, dispute, True)
    receipt = market.handle.transact("resolve", dispute, sender=actors.outsider)
    assert market.handle.events(receipt, "ResultRejected") == [dict(task_id=task, round=1,
                                                                    result_hash=world["result_hash"])]
    assert len(market.handle.events(receipt, "ValidatorDropped")) == 2  # both attesters


def test_a_dismissed_result_dispute_rejects_nothing(system, actors, world):
    market, task = system.market, world["task"]
    dispute = market.challenge_result(task, 1, world["result_hash"], sender=actors.challenger)
    market.vote(dispute, True, sender=actors.third_validator)
    system.backend.advance_time(VOTE_PERIOD)
    receipt = market.handle.transact("resolve", dispute, sender=actors.outsider)
    assert market.handle.events(receipt, "ResultRejected") == []
