import pytest

from deployers import TOKEN, Rewards, finalize, staked_task
from fedstake.errors import ContractRevert


def test_the_registry_is_bound_to_the_market_once(system, actors):
    assert system.models.market() == system.market.address
    with pytest.raises(ContractRevert, match="models: market already bound"):
        system.models.bind_market(actors.outsider.address, sender=actors.owner)


def test_binding_is_owner_only(backend, actors):
    from fedstake.chain.compiler import load_artifact
    from fedstake.chain.contract import deploy_contract
    from fedstake.chain.models import ModelRegistry

    models = ModelRegistry(deploy_contract(backend, load_artifact("ModelRegistry"), (), actors.owner))
    with pytest.raises(ContractRevert, match="ownable: caller is not the owner"):
        models.bind_market(actors.outsider.address, sender=actors.outsider)
    with pytest.raises(ContractRevert, match="models: no market bound"):
        models.mint_model(1, sender=actors.outsider)


def test_a_model_is_minted_only_for_a_closed_task_with_a_final_round(system, actors):
    task = staked_task(system, actors, budget=100 * TOKEN, rounds=2)
    table = Rewards({actors.trainer.address: (10 * TOKEN, 1)})
    finalize(system, actors, task, 1, table.result())
    with pytest.raises(ContractRevert, match="models: task not closed"):
        system.models.mint_model(task, sender=actors.outsider)
    system.backend.advance_time(10**6 + 1)
    system.market.close_task(task, sender=actors.outsider)
    system.models.mint_model(task, sender=actors.outsider)  # anyone; the token goes to the requester
    assert system.models.owner_of(task) == actors.requester.address
    with pytest.raises(ContractRevert, match="erc721: token already minted"):
        system.models.mint_model(task, sender=actors.outsider)


def test_a_task_closed_with_no_final_round_has_no_model(system, actors):
    task = staked_task(system, actors, budget=100 * TOKEN)
    system.backend.advance_time(10**6 + 1)
    system.market.close_task(task, sender=actors.requester)
    with pytest.raises(ContractRevert, match="models: no final round"):
        system.models.mint_model(task, sender=actors.outsider)


def test_free_minting_burning_and_minter_roles_are_not_exposed(system):
    names = {e.get("name") for e in system.models.handle.artifact.abi}
    assert not names & {"safe_mint", "burn", "set_minter", "is_minter"} and "mint_model" in names
