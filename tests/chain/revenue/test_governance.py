"""ModelGovernance: contributors vote a model's price and licence, share-weighted, with a timelock."""

import pytest

from deployers import TOKEN, minted_model
from fedstake.chain.accounts import derive_account
from fedstake.chain.compiler import load_artifact
from fedstake.chain.contract import deploy_contract
from fedstake.chain.governance import licence_hash
from fedstake.errors import ContractRevert

CONTRIBUTORS = [derive_account(4, f"contributor-{i}") for i in range(3)]
SHARES = {c.address: (s * TOKEN, 1) for c, s in zip(CONTRIBUTORS, (1, 2, 7))}  # 10 % / 20 % / 70 %
LICENCE = b"CC-BY-4.0 for the digits model"


@pytest.fixture
def model(system, actors):
    task_id, _, rewards = minted_model(system, actors, SHARES)
    return task_id, rewards


def _propose(system, actors, task_id, price=7):
    return system.governance.propose(task_id, price=price, licence_uri="ipfs://licence",
                                     licence_hash=licence_hash(LICENCE), sender=actors.outsider)


def _vote(system, rewards, proposal, who, support=True):
    system.governance.vote(proposal, support, *rewards.ticket(CONTRIBUTORS[who].address), sender=CONTRIBUTORS[who])


def _past_timelock(system):
    params = system.params
    system.backend.advance_time(params.gov_voting_period + params.gov_timelock)


def test_a_passed_proposal_sets_the_terms_after_its_timelock(system, actors, model):
    task_id, rewards = model
    assert system.governance.terms(task_id).proposal_id == 0
    proposal = _propose(system, actors, task_id)
    _vote(system, rewards, proposal, 2)
    _vote(system, rewards, proposal, 1, support=False)
    tally = system.governance.proposal(proposal)
    assert (tally.yes, tally.no) == (7 * TOKEN, 2 * TOKEN)
    system.backend.advance_time(system.params.gov_voting_period)
    with pytest.raises(ContractRevert, match="gov: timelocked"):
        system.governance.execute(proposal, sender=actors.outsider)
    system.backend.advance_time(system.params.gov_timelock)
    system.governance.execute(proposal, sender=actors.outsider)
    terms = system.governance.terms(task_id)
    assert (terms.price, terms.licence_uri, terms.licence_hash, terms.proposal_id) == (
        7, "ipfs://licence", licence_hash(LICENCE), proposal)
    with pytest.raises(ContractRevert, match="gov: already executed"):
        system.governance.execute(proposal, sender=actors.outsider)


def test_each_contributor_votes_once_within_the_period(system, actors, model):
    task_id, rewards = model
    proposal = _propose(system, actors, task_id)
    _vote(system, rewards, proposal, 0)
    with pytest.raises(ContractRevert, match="gov: already voted"):
        _vote(system, rewards, proposal, 0, support=False)
    system.backend.advance_time(system.params.gov_voting_period)
    with pytest.raises(ContractRevert, match="gov: voting closed"):
        _vote(system, rewards, proposal, 1)


def test_a_vote_needs_the_voters_own_leaf(system, actors, model):
    task_id, rewards = model
    proposal = _propose(system, actors, task_id)
    with pytest.raises(ContractRevert, match="gov: invalid proof"):
        system.governance.vote(proposal, True, *rewards.ticket(CONTRIBUTORS[2].address), sender=actors.outsider)
    share, rounds, proof = rewards.ticket(CONTRIBUTORS[0].address)
    with pytest.raises(ContractRevert, match="gov: invalid proof"):
        system.governance.vote(proposal, True, share * 10, rounds, proof, sender=CONTRIBUTORS[0])


def test_without_quorum_or_majority_nothing_executes(system, actors, model):
    task_id, rewards = model
    few = _propose(system, actors, task_id)
    _vote(system, rewards, few, 0)  # 10 % voting, under the 20 % quorum
    split = _propose(system, actors, task_id)
    _vote(system, rewards, split, 0)
    _vote(system, rewards, split, 2, support=False)
    _past_timelock(system)
    with pytest.raises(ContractRevert, match="gov: no quorum"):
        system.governance.execute(few, sender=actors.outsider)
    with pytest.raises(ContractRevert, match="gov: rejected"):
        system.governance.execute(split, sender=actors.outsider)


def test_an_older_proposal_cannot_override_a_newer_one(system, actors, model):
    task_id, rewards = model
    older, newer = _propose(system, actors, task_id, price=1), _propose(system, actors, task_id, price=2)
    for proposal in (older, newer):
        _vote(system, rewards, proposal, 2)
    _past_timelock(system)
    system.governance.execute(newer, sender=actors.outsider)
    with pytest.raises(ContractRevert, match="gov: superseded"):
        system.governance.execute(older, sender=actors.outsider)
    assert system.governance.terms(task_id).price == 2


def test_proposals_need_a_minted_model_and_votes_a_known_proposal(system, actors, model):
    task_id, rewards = model
    with pytest.raises(ContractRevert, match="gov: no model"):
        _propose(system, actors, task_id + 1)
    with pytest.raises(ContractRevert, match="gov: unknown proposal"):
        _vote(system, rewards, 99, 0)
    with pytest.raises(ContractRevert, match="gov: unknown proposal"):
        system.governance.execute(99, sender=actors.outsider)


@pytest.mark.parametrize("period, quorum, reason", [(0, 2_000, "gov: zero voting period"),
                                                    (60, 0, "gov: quorum out of range"),
                                                    (60, 10_001, "gov: quorum out of range")])
def test_the_parameters_are_checked_at_deployment(system, actors, period, quorum, reason):
    with pytest.raises(ContractRevert, match=reason):
        deploy_contract(system.backend, load_artifact("ModelGovernance"),
                        (system.models.address, period, 0, quorum), actors.owner)
