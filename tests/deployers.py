"""Deployers, actors and round helpers for tests, defined once."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from eth_utils import keccak

from fedstake.chain.accounts import Account, derive_account
from fedstake.chain.backend import ChainBackend
from fedstake.chain.compiler import load_artifact
from fedstake.chain.contract import ContractHandle, deploy_contract
from fedstake.chain.deployment import Deployment, SettlementParams, deploy_system
from fedstake.chain.market import RoundResult, TaskRules, reward_leaf
from fedstake.chain.merkle import MerkleTree
from fedstake.chain.staking import Role
from fedstake.errors import ContractRevert

TOKEN = 10**18
MIN_STAKE = 10 * TOKEN
UNBOND_DELAY = 7 * 24 * 3600
WINDOW = 600
VOTE_PERIOD = 600
BOND = 5 * TOKEN
PARAMS = SettlementParams(min_stake=MIN_STAKE, unbond_delay=UNBOND_DELAY, challenge_window=WINDOW,
                          vote_period=VOTE_PERIOD, challenge_bond=BOND, bounty_bps=5_000,
                          trainer_slash_bps=10_000, validator_slash_bps=5_000, reputation_cut_bps=5_000)
TEST_CONTRACTS = Path(__file__).parent / "contracts"


@dataclass(frozen=True)
class Actors:
    owner: Account
    requester: Account
    validator: Account
    second_validator: Account
    third_validator: Account
    trainer: Account
    second_trainer: Account
    challenger: Account
    outsider: Account
    insurance: Account

    @property
    def validators(self) -> tuple[Account, Account, Account]:
        return (self.validator, self.second_validator, self.third_validator)


def actors(seed: int = 1) -> Actors:
    return Actors(*(derive_account(seed, role) for role in Actors.__dataclass_fields__))


def deploy(backend: ChainBackend, crew: Actors, params: SettlementParams = PARAMS) -> Deployment:
    return deploy_system(backend, crew.owner, insurance=crew.insurance.address, params=params)


def deploy_probe(backend: ChainBackend, owner: Account) -> ContractHandle:
    return deploy_contract(backend, load_artifact("MerkleProbe", source_dir=TEST_CONTRACTS), (), owner)


def fund(system: Deployment, account: Account, amount: int) -> None:
    system.token.mint(account.address, amount, sender=system.owner)


def stake(system: Deployment, account: Account, amount: int, role: Role) -> None:
    """Stake as `role` and trust the market to bond that stake, as onboarding does."""
    fund(system, account, amount)
    system.token.approve(system.registry.address, amount, sender=account)
    system.registry.stake(amount, role, sender=account)
    system.registry.set_trust(system.market.address, True, sender=account)


def attempt(call) -> bool:
    """Run `call`; False if the contract reverted (stateful tests try actions that may be refused)."""
    try:
        call()
    except ContractRevert:
        return False
    return True


def delegate_to(system: Deployment, delegator: Account, delegate: str, amount: int) -> None:
    """Fund `delegator` with `amount` and delegate it all to `delegate`."""
    fund(system, delegator, amount)
    system.token.approve(system.delegation.address, amount, sender=delegator)
    system.delegation.delegate(delegate, amount, sender=delegator)


def share_rewards(system: Deployment, delegate: Account, earned: int) -> None:
    """The delegate earned `earned` (minted here) and shares its pool's part."""
    fund(system, delegate, earned)
    system.token.approve(system.delegation.address, earned, sender=delegate)
    system.delegation.share_rewards(earned, sender=delegate)


def rules(validators: tuple[str, ...], asks: tuple[int, ...], *, budget: int = 1_000 * TOKEN, rounds: int = 3,
          deadline: int, settle_every: int = 1) -> TaskRules:
    return TaskRules(budget=budget, rounds=rounds, cohort_size=5, min_stake=MIN_STAKE, validators=validators,
                     validator_bonds=asks, seed=b"\x11" * 32, genesis_model_hash=b"\x22" * 32, deadline=deadline,
                     settle_every=settle_every)


def free_stake(system: Deployment, address: str) -> int:
    return system.registry.stake_of(address) - system.registry.bonded_of(address)


def open_task(system: Deployment, requester: Account, validators: tuple[Account | str, ...], *,
              asks: tuple[int, ...] | None = None, **kwargs) -> int:
    """A task asking each validator for `asks` (default: all its free stake); the validators
    given as accounts join it, those given as bare addresses are only listed."""
    addresses = tuple(v if isinstance(v, str) else v.address for v in validators)
    asks = asks or tuple(max(free_stake(system, a), 1) for a in addresses)
    task_rules = rules(addresses, asks, deadline=system.backend.timestamp() + 10**6, **kwargs)
    fund(system, requester, task_rules.budget)
    system.token.approve(system.market.address, task_rules.budget, sender=requester)
    task_id = system.market.create_task(task_rules, sender=requester)
    for v, ask in zip(validators, asks):
        if not isinstance(v, str):
            system.market.join_task(task_id, ask, sender=v)
    return task_id


def join(system: Deployment, trainer: Account, task_id: int, amount: int = MIN_STAKE) -> None:
    """Stake `amount` as a trainer (if not staked yet) and bond it to the task."""
    if system.registry.stake_of(trainer.address) < amount:
        stake(system, trainer, amount - system.registry.stake_of(trainer.address), Role.TRAINER)
    system.market.join_task(task_id, amount, sender=trainer)


def staked_task(system: Deployment, crew: Actors, **kwargs) -> int:
    """Three equally staked validators and a task they validate, all three joined."""
    for v in crew.validators:
        stake(system, v, 100 * TOKEN, Role.VALIDATOR)
    return open_task(system, crew.requester, crew.validators, **kwargs)


class Rewards:
    """A rewards table and its tree: {address: (cumulative amount, accepted rounds)}."""

    def __init__(self, table: dict[str, tuple[int, int]]) -> None:
        self.table = table
        self.tree = MerkleTree([reward_leaf(a, v, r) for a, (v, r) in table.items()])

    @property
    def total(self) -> int:
        return sum(v for v, _ in self.table.values())

    def ticket(self, account: str) -> tuple[int, int, list[bytes]]:
        value, rounds = self.table[account]
        return value, rounds, self.tree.proof(reward_leaf(account, value, rounds))

    def result(self, tag: bytes = b"model", updates_root: bytes = b"\x44" * 32) -> RoundResult:
        return RoundResult(keccak(tag), updates_root, self.tree.root, self.total)


def propose_and_attest(system: Deployment, crew: Actors, task_id: int, round: int, result: RoundResult) -> bytes:
    """The first validator proposes, the second attests: 2 of 3 equal weights is a quorum."""
    result_hash = system.market.propose_round(task_id, round, result, sender=crew.validator)
    system.market.attest_round(task_id, round, result_hash, sender=crew.second_validator)
    return result_hash


def finalize(system: Deployment, crew: Actors, task_id: int, round: int, result: RoundResult) -> bytes:
    """Propose, attest, wait out the window and finalise round `round`."""
    result_hash = propose_and_attest(system, crew, task_id, round, result)
    system.backend.advance_time(WINDOW)
    system.market.finalize_round(task_id, round, sender=crew.outsider)
    return result_hash


def minted_model(system: Deployment, crew: Actors, table: dict[str, tuple[int, int]], *,
                 model_hash: bytes | None = None):
    """A one-round task whose final rewards are `table` (and final model `model_hash`), closed
    and its model minted: (task id, the model's RevenueSplitter, the table's Rewards)."""
    from dataclasses import replace

    from fedstake.chain.splitter import RevenueSplitter

    task_id = staked_task(system, crew, budget=max(1_000 * TOKEN, sum(v for v, _ in table.values())), rounds=1)
    rewards = Rewards(table)
    result = rewards.result() if model_hash is None else replace(rewards.result(), model_hash=model_hash)
    finalize(system, crew, task_id, 1, result)
    system.market.close_task(task_id, sender=crew.outsider)
    system.models.mint_model(task_id, sender=crew.outsider)
    return task_id, RevenueSplitter.at(system.backend, system.models.splitter_of(task_id)), rewards


def pay_fees(system: Deployment, payer: Account, splitter, amount: int) -> None:
    """Mint `amount` to `payer` and deposit it into `splitter` as fees."""
    fund(system, payer, amount)
    system.token.approve(splitter.address, amount, sender=payer)
    splitter.deposit(amount, sender=payer)


def rpc_backend_in_snapshot(url: str):
    """An RpcBackend on a shared node, and the undo that resets the node to now.

    One anvil can serve many tests: each runs inside an evm_snapshot that
    its undo reverts, so every test sees the same fresh chain.
    """
    from fedstake.chain.rpc import RpcBackend  # deferred: web3 costs ~1 s to import

    backend = RpcBackend.over_http(url)
    snapshot = backend.web3.manager.request_blocking("evm_snapshot", [])
    return backend, lambda: backend.web3.manager.request_blocking("evm_revert", [snapshot])
