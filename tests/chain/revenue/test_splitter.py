"""RevenueSplitter: shares frozen from the closed task's last rewards root, cumulative pull claims,
and the model NFT's EIP-2981 royalty pointing at it."""

import pytest

from deployers import TOKEN, fund, minted_model, pay_fees
from fedstake.chain.accounts import derive_account
from fedstake.chain.compiler import load_artifact
from fedstake.chain.contract import deploy_contract
from fedstake.errors import ContractRevert

CONTRIBUTORS = [derive_account(3, f"contributor-{i}") for i in range(3)]
SHARES = {c.address: ((i + 1) * TOKEN, 1) for i, c in enumerate(CONTRIBUTORS)}  # 1 : 2 : 3


@pytest.fixture
def model(system, actors):
    return minted_model(system, actors, SHARES)


def test_the_shares_are_the_closed_tasks_last_rewards_root_and_total(system, model):
    task_id, splitter, rewards = model
    assert splitter.shares_root() == system.market.handle.call("rewards_root", task_id) == rewards.tree.root
    assert splitter.total_shares() == rewards.total == 6 * TOKEN


def test_the_model_nft_names_its_splitter_as_royalty_receiver(system, model):
    task_id, splitter, _ = model
    assert system.models.royalty_info(task_id, 50 * TOKEN) == (splitter.address, 5 * TOKEN)  # 10 %
    for interface in ("2a55205a", "80ac58cd", "01ffc9a7"):
        assert system.models.handle.call("supportsInterface", bytes.fromhex(interface))
    assert not system.models.handle.call("supportsInterface", bytes.fromhex("ffffffff"))


def test_each_contributor_is_paid_its_share_of_every_fee_once(system, actors, model):
    _, splitter, rewards = model
    pay_fees(system, actors.requester, splitter, 600)
    for contributor, expected in zip(CONTRIBUTORS, (100, 200, 300)):
        splitter.claim(*rewards.ticket(contributor.address), sender=contributor)
        assert system.token.balance_of(contributor.address) == expected
    with pytest.raises(ContractRevert, match="split: nothing to claim"):
        splitter.claim(*rewards.ticket(CONTRIBUTORS[0].address), sender=CONTRIBUTORS[0])
    pay_fees(system, actors.requester, splitter, 60)
    splitter.claim(*rewards.ticket(CONTRIBUTORS[2].address), sender=CONTRIBUTORS[2])
    assert system.token.balance_of(CONTRIBUTORS[2].address) == 330
    assert splitter.released() == 630 and splitter.total_received() == 660


def test_a_plain_transfer_counts_as_fees(system, actors, model):
    """A marketplace paying the EIP-2981 royalty just transfers: the balance is the record."""
    _, splitter, rewards = model
    fund(system, actors.outsider, 60)
    system.token.transfer(splitter.address, 60, sender=actors.outsider)
    assert splitter.claimable(CONTRIBUTORS[1].address, *rewards.ticket(CONTRIBUTORS[1].address)) == 20


def test_flooring_leaves_dust_never_an_overpayment(system, actors, model):
    _, splitter, rewards = model
    pay_fees(system, actors.requester, splitter, 5)
    paid = []
    for contributor in CONTRIBUTORS:
        ticket = rewards.ticket(contributor.address)
        if splitter.claimable(contributor.address, *ticket):
            splitter.claim(*ticket, sender=contributor)
        paid.append(system.token.balance_of(contributor.address))
    assert paid == [0, 1, 2] and system.token.balance_of(splitter.address) == 2


def test_a_claim_needs_the_senders_own_leaf(system, actors, model):
    _, splitter, rewards = model
    pay_fees(system, actors.requester, splitter, 600)
    share, rounds, proof = rewards.ticket(CONTRIBUTORS[0].address)
    with pytest.raises(ContractRevert, match="split: invalid proof"):
        splitter.claim(share, rounds, proof, sender=actors.outsider)
    with pytest.raises(ContractRevert, match="split: invalid proof"):
        splitter.claim(share * 2, rounds, proof, sender=CONTRIBUTORS[0])
    with pytest.raises(ContractRevert, match="split: invalid proof"):
        splitter.claim(share, rounds, proof[:-1], sender=CONTRIBUTORS[0])


def test_nothing_to_claim_before_any_fee(model):
    _, splitter, rewards = model
    with pytest.raises(ContractRevert, match="split: nothing to claim"):
        splitter.claim(*rewards.ticket(CONTRIBUTORS[0].address), sender=CONTRIBUTORS[0])


def test_a_deposit_needs_an_amount_and_an_allowance(system, actors, model):
    _, splitter, _ = model
    with pytest.raises(ContractRevert, match="split: zero deposit"):
        splitter.deposit(0, sender=actors.requester)
    fund(system, actors.outsider, 10)
    with pytest.raises(ContractRevert, match="erc20: insufficient allowance"):
        splitter.deposit(10, sender=actors.outsider)


def test_only_a_forfeited_share_is_reclaimed(actors, model):
    _, splitter, rewards = model
    with pytest.raises(ContractRevert, match="split: not forfeited"):
        splitter.reclaim_forfeited(CONTRIBUTORS[0].address, *rewards.ticket(CONTRIBUTORS[0].address),
                                   sender=actors.requester)


def test_a_forfeited_share_goes_to_the_requester_and_its_owner_cannot_claim(backend):
    """The gas script's cheat loses an update dispute after its last rewards root: its
    revenue share is reclaimed for the requester, never paid to it."""
    from fedstake.chain.gas_profile import _Script
    from fedstake.chain.market import reward_leaf
    from fedstake.chain.splitter import RevenueSplitter

    script = _Script(backend, 4, 0)
    script.run()
    system = script.system
    splitter = RevenueSplitter.at(backend, system.models.splitter_of(script.task_id))
    amounts, tree = script._rewards(3)
    share, rounds = amounts[script.cheat.address]
    proof = tree.proof(reward_leaf(script.cheat.address, share, rounds))
    assert splitter.paid(script.cheat.address) == 2 * TOKEN * share // splitter.total_shares()
    with pytest.raises(ContractRevert, match="split: rewards forfeited"):
        splitter.claim(share, rounds, proof, sender=script.cheat)
    with pytest.raises(ContractRevert, match="split: nothing to claim"):
        splitter.reclaim_forfeited(script.cheat.address, share, rounds, proof, sender=script.requester)


def test_a_splitter_is_only_for_a_closed_task(system, actors):
    from deployers import staked_task

    task_id = staked_task(system, actors, rounds=1)
    with pytest.raises(ContractRevert, match="split: task not closed"):
        deploy_contract(system.backend, load_artifact("RevenueSplitter"), (system.market.address, task_id),
                        actors.outsider)


def test_the_splitter_blueprint_is_bound_once_by_the_owner(system, actors):
    with pytest.raises(ContractRevert, match="models: splitter already bound"):
        system.models.bind_splitter(actors.outsider.address, 100, sender=actors.owner)
    with pytest.raises(ContractRevert, match="ownable: caller is not the owner"):
        system.models.bind_splitter(actors.outsider.address, 100, sender=actors.outsider)


def test_a_registry_without_a_splitter_mints_nothing_and_caps_the_royalty(backend, actors):
    from fedstake.chain.models import ModelRegistry

    models = ModelRegistry(deploy_contract(backend, load_artifact("ModelRegistry"), (), actors.owner))
    models.bind_market(actors.outsider.address, sender=actors.owner)
    with pytest.raises(ContractRevert, match="models: no splitter bound"):
        models.mint_model(1, sender=actors.outsider)
    with pytest.raises(ContractRevert, match="models: royalty above sale price"):
        models.bind_splitter(actors.outsider.address, 10_001, sender=actors.owner)
