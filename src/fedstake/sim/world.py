"""Build a scenario's world: data, participants, chain, contracts and the task.

Every key, partition and initial model derives from the scenario seed,
so the same scenario builds the same world on every run.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from eth_utils import keccak

from fedstake.chain.accounts import Account, derive_account
from fedstake.chain.backend import ChainBackend
from fedstake.chain.deployment import TOKEN, Deployment, SettlementParams, deploy_system
from fedstake.chain.embedded import EmbeddedBackend
from fedstake.chain.market import TaskRules
from fedstake.econ.rewards import round_budget
from fedstake.learn.aggregators import make_aggregator
from fedstake.learn.attacks import clone_groups, make_behaviour
from fedstake.learn.data import Dataset, load_dataset
from fedstake.learn.models import ParamSpec, build_model, initial_parameters
from fedstake.learn.partition import partition_dirichlet, partition_iid, partition_natural, partition_shards
from fedstake.errors import ConfigError
from fedstake.learn.privacy import ClientPrivacy, DPMean, typical_private_norm
from fedstake.learn.train import LocalTraining
from fedstake.proof.codec import model_hash, params_bytes
from fedstake.proof.pol import PolRules
from fedstake.proof.screening import ScreeningRules
from fedstake.protocol.asks import SignedAsk
from fedstake.protocol.clock import SimulatedClock
from fedstake.protocol.ledger import PublishedTable
from fedstake.protocol.requester import Requester
from fedstake.protocol.desk import LocalValidatorPort, TaskTerms, ValidatorDesk
from fedstake.protocol.round import TaskSession
from fedstake.protocol.settlement import ValidatorSettlement
from fedstake.protocol.scoring import ScoringRules
from fedstake.protocol.trainer import Trainer
from fedstake.protocol.validator import Reference, Validator
from fedstake.sim.asks import ask_book
from fedstake.sim.config import Scenario
from fedstake.sim.dishonest_trainers import make_trainer
from fedstake.sim.dishonest_validators import make_validator
from fedstake.sim.edge import EdgeModel

TASK_DEADLINE = 365 * 24 * 3600
BOND_FUNDS = 1_000  # whole tokens each validator holds for dispute bonds


@dataclass
class World:
    scenario: Scenario
    dataset: Dataset
    backend: ChainBackend
    deployment: Deployment
    requester: Requester
    validators: list[Validator]
    trainers: list[Trainer]
    behaviours: dict[str, str]  # participant address -> the behaviour its scenario group plays
    sybil_families: list[tuple[str, ...]]
    stakes: dict[str, int]
    task_id: int
    session: TaskSession
    genesis_hash: bytes
    edge: EdgeModel | None = None
    claimed: dict[str, tuple[int, int]] = field(default_factory=dict)  # account -> (amount, rounds) claimed
    forfeited: set[str] = field(default_factory=set)
    credited: dict[str, int] = field(default_factory=dict)  # account -> rewards in final roots so far
    deployment_block: int = 0  # at or before the first contract's creation (the manifest's)
    tables: dict[int, PublishedTable] = field(default_factory=dict)  # round -> the table it settled
    models: dict[bytes, bytes] = field(default_factory=dict)  # model hash -> canonical bytes, every round's
    asks: dict[int, tuple[SignedAsk, ...]] = field(default_factory=dict)  # round -> the asks that bid (auction)
    claimed_total: dict[str, int] = field(default_factory=dict)  # account -> claimed in every task ended so far

    def keep_model(self, flat: torch.Tensor) -> bytes:
        """Keep a global model's canonical bytes for publishing; returns its hash (the chain's)."""
        payload = params_bytes(self.trainers[0].spec.unflatten(flat))
        model = keccak(payload)
        self.models[model] = payload
        return model

    @property
    def accounts(self) -> list[str]:
        return [self.deployment.owner.address, self.deployment.insurance, self.requester.address,
                *(v.address for v in self.validators), *(t.address for t in self.trainers)]


def make_backend(scenario: Scenario) -> ChainBackend:
    if scenario.chain.backend == "rpc":
        from fedstake.chain.rpc import open_rpc_backend  # deferred: web3 costs ~1 s to import

        return open_rpc_backend(scenario.chain.rpc_url)
    return EmbeddedBackend()


def settlement_params(scenario: Scenario) -> SettlementParams:
    chain = scenario.chain
    return SettlementParams(
        min_stake=chain.min_stake * TOKEN, unbond_delay=chain.unbond_delay, challenge_window=chain.challenge_window,
        vote_period=chain.vote_period, challenge_bond=chain.challenge_bond * TOKEN, bounty_bps=chain.bounty_bps,
        trainer_slash_bps=chain.trainer_slash_bps, validator_slash_bps=chain.validator_slash_bps,
        reputation_cut_bps=chain.reputation_cut_bps,
    )


def _dataset(scenario: Scenario) -> Dataset:
    task = scenario.task
    options = {"alpha": task.synthetic_alpha, "beta": task.synthetic_beta} if task.dataset == "synthetic" else {}
    if task.dataset == "digits":
        options = {"val": task.validation_share}
    return load_dataset(task.dataset, seed=task.seed, **options)


def _partitions(scenario: Scenario, dataset: Dataset) -> list[torch.Tensor]:
    task, n, labels = scenario.task, scenario.trainer_count, dataset.y_train.numpy()
    if task.partition == "iid":
        parts = partition_iid(len(labels), n, seed=task.seed)
    elif task.partition == "shards":
        parts = partition_shards(labels, n, seed=task.seed, shards_per_client=task.shards_per_client)
    elif task.partition == "natural":
        groups = None if dataset.train_groups is None else dataset.train_groups.numpy()
        parts = partition_natural(groups, n)
    else:
        parts = partition_dirichlet(labels, n, alpha=task.dirichlet_alpha, seed=task.seed)
    return [torch.from_numpy(p) for p in parts]


def _trainers(scenario: Scenario, dataset: Dataset, module, spec: ParamSpec) -> tuple[list[Trainer], list]:
    task, seed = scenario.task, scenario.task.seed
    training = _training(scenario)
    privacy = None
    if scenario.privacy is not None:
        privacy = ClientPrivacy(scenario.privacy.clip_norm, scenario.privacy.noise_multiplier, task.clients_per_round)
    parts = iter(_partitions(scenario, dataset))
    trainers, families = [], []
    for g, group in enumerate(scenario.trainers):
        behaviour = make_behaviour(group.behaviour, group.attack_params(), key=f"trainers.{g}")
        members = []
        for _ in range(group.count):
            part = next(parts)
            account = derive_account(seed, f"trainer-{len(trainers)}")
            trainers.append(make_trainer(behaviour, account=account, x=dataset.x_train[part], y=dataset.y_train[part],
                                         module=module, spec=spec, training=training,
                                         num_classes=dataset.num_classes, privacy=privacy))
            members.append(account.address)
        if group.behaviour == "sybil":
            families += clone_groups(members, clones=group.clones)
    return trainers, families


def _training(scenario: Scenario) -> LocalTraining:
    task = scenario.task
    return LocalTraining(task.local_epochs, task.batch_size, task.learning_rate, task.proximal_mu)


def _validation_order(scenario: Scenario, dataset: Dataset) -> torch.Tensor:
    return torch.randperm(len(dataset.y_val), generator=torch.Generator().manual_seed(scenario.task.seed))


def _references(scenario: Scenario, dataset: Dataset, module, spec: ParamSpec) -> list[Reference]:
    """Each validator's own slice of the validation split (disjoint, deterministic)."""
    count = sum(g.count for g in scenario.validators)
    return [Reference(dataset.x_val[part], dataset.y_val[part], module, spec, _training(scenario))
            for part in _validation_order(scenario, dataset).tensor_split(count)]


def _root_set(scenario: Scenario, dataset: Dataset, module, spec: ParamSpec) -> Reference:
    """The root set the requester publishes with the task: its whole validation split (in the
    order the validators' slices are cut from, so a lone validator's root is its own slice, as
    before), the data Flower's server trains FLTrust's root on too. Public to the validators, so
    an attacker who reads it can aim at it; the price of every validator computing one aggregate."""
    order = _validation_order(scenario, dataset)
    return Reference(dataset.x_val[order], dataset.y_val[order], module, spec, _training(scenario))


def scoring_rules(scenario: Scenario) -> ScoringRules:
    proof = scenario.proof
    return ScoringRules(
        scorer=proof.scorer, utility=proof.utility, kappa=proof.kappa, agreement_ema=proof.agreement_ema,
        rule=scenario.rewards.rule,
        validator_share=scenario.rewards.validator_share, sybil_defence=proof.sybil_defence,
        foolsgold_confidence=proof.foolsgold_confidence, clone_similarity=proof.clone_similarity,
        reference_epochs=proof.reference_epochs,
        gtg={"eps": proof.gtg_eps, "truncation": proof.gtg_truncation, "convergence": proof.gtg_convergence},
    )


def _colluders(scenario: Scenario, trainers: list[Trainer], group: int | None) -> frozenset[str]:
    """The addresses of trainer group `group` (default: the first group that is not honest)."""
    if group is None:
        group = next((i for i, g in enumerate(scenario.trainers) if g.behaviour != "honest"), 0)
    start = sum(g.count for g in scenario.trainers[:group])
    return frozenset(t.address for t in trainers[start:start + scenario.trainers[group].count])


def pol_rules(scenario: Scenario) -> PolRules | None:
    proof = scenario.proof
    return PolRules(proof.pol_interval, proof.pol_segments, proof.pol_tolerance) if proof.pol else None


def _validators(scenario: Scenario, spec: ParamSpec, references: list[Reference], root: Reference,
                trainers: list[Trainer]) -> list[tuple[Validator, int]]:
    rules = ScreeningRules(spec, scenario.screening.max_norm)
    out = []
    for g, group in enumerate(scenario.validators):
        for _ in range(group.count):
            reference = references[len(out)]
            account = derive_account(scenario.task.seed, f"validator-{len(out)}")
            aggregator = make_aggregator(scenario.task.aggregator, scenario.aggregator_params())  # one each: some keep state
            if scenario.privacy is not None and scenario.task.aggregator == "fedavg":
                aggregator = DPMean()  # sample weights would break the per-client sensitivity bound
            colluders = _colluders(scenario, trainers, group.colludes_with) if group.behaviour == "collude" else frozenset()
            validator = make_validator(group.behaviour, colluders=colluders, key=f"validators.{g}", account=account,
                                       rules=rules, aggregator=aggregator, reference=reference, root=root,
                                       pol=pol_rules(scenario))
            out.append((validator, group.stake * TOKEN))
    return out


def _behaviours(scenario: Scenario, trainers: list[Trainer], validators: list[tuple[Validator, int]]) -> dict[str, str]:
    """Each participant's behaviour, from its scenario group (what results group them by)."""
    members = [g.behaviour for g in scenario.trainers for _ in range(g.count)]
    members += [g.behaviour for g in scenario.validators for _ in range(g.count)]
    return dict(zip([t.address for t in trainers] + [v.address for v, _ in validators], members))


def _onboard(deployment: Deployment, trainers: list[Trainer], scenario: Scenario,
             validators: list[tuple[Validator, int]]) -> dict[str, int]:
    token, owner, registry, market = deployment.token, deployment.owner, deployment.registry, deployment.market
    stakes = {}
    for trainer, group in zip(trainers, (g for g in scenario.trainers for _ in range(g.count))):
        stakes[trainer.address] = group.stake * TOKEN
        token.mint(trainer.address, stakes[trainer.address], sender=owner)
        trainer.stake(token, registry, stakes[trainer.address])
        trainer.trust(registry, market)
        trainer.register(market)
    for validator, amount in validators:
        token.mint(validator.address, amount + BOND_FUNDS * TOKEN, sender=owner)
        validator.stake(token, registry, amount)
        validator.trust(registry, market)
        token.approve(market.address, BOND_FUNDS * TOKEN, sender=validator.account)
        stakes[validator.address] = amount
    return stakes


def _check_privacy_fits_screening(scenario: Scenario, spec: ParamSpec) -> None:
    """Noised honest updates must pass the norm screen, or DP would reject every honest trainer."""
    if scenario.privacy is None:
        return
    norm = typical_private_norm(clip_norm=scenario.privacy.clip_norm, noise_multiplier=scenario.privacy.noise_multiplier,
                                expected_cohort=scenario.task.clients_per_round, num_params=spec.size)
    if norm * 1.1 > scenario.screening.max_norm:
        raise ConfigError("screening.max-norm", f"{scenario.screening.max_norm} is below the typical norm of a noised "
                          f"honest update ({norm:.3g} for {spec.size} parameters): raise it above {1.1 * norm:.3g}, "
                          "or lower privacy.noise-multiplier / privacy.clip-norm")


@dataclass(frozen=True)
class Cast:
    """A scenario's participants and what they learn on: built alike for a simulation (all in one
    process) and for a federation's nodes (each takes its own role)."""

    dataset: Dataset
    spec: ParamSpec
    genesis: torch.Tensor
    trainers: list[Trainer]
    families: list[tuple[str, ...]]
    validators: list[tuple[Validator, int]]  # (role, stake in base units)


def cast_of(scenario: Scenario) -> Cast:
    task = scenario.task
    dataset = _dataset(scenario)
    module = build_model(task.model, dataset.num_features, dataset.num_classes)
    spec = ParamSpec.of(module)
    genesis = initial_parameters(module, seed=task.seed)
    _check_privacy_fits_screening(scenario, spec)
    trainers, families = _trainers(scenario, dataset, module, spec)
    validators = _validators(scenario, spec, _references(scenario, dataset, module, spec),
                             _root_set(scenario, dataset, module, spec), trainers)
    return Cast(dataset, spec, genesis, trainers, families, validators)


def task_rules(scenario: Scenario, validators: list[tuple[str, int]], genesis_hash: bytes, now: int) -> TaskRules:
    """The rules a requester posts for `scenario`: validators (address, bond asked) in order."""
    task = scenario.task
    return TaskRules(
        budget=task.budget * TOKEN, rounds=task.rounds, cohort_size=task.clients_per_round,
        min_stake=scenario.chain.min_stake * TOKEN, validators=tuple(a for a, _ in validators),
        validator_bonds=tuple(b for _, b in validators), seed=task.seed.to_bytes(32, "big"),
        genesis_model_hash=genesis_hash, deadline=now + TASK_DEADLINE, settle_every=task.settle_every,
    )


def task_terms(scenario: Scenario, task_id: int) -> TaskTerms:
    """What every participant of task `task_id` reads from its rules and the scenario's scoring."""
    task = scenario.task
    return TaskTerms(task_id=task_id, rounds=task.rounds, settle_every=task.settle_every,
                     cohort_size=task.clients_per_round, min_stake=scenario.chain.min_stake * TOKEN,
                     round_budget=round_budget(task.budget * TOKEN, task.rounds), scoring=scoring_rules(scenario),
                     reputation_selection=task.selection == "stake-reputation", pol=pol_rules(scenario),
                     pricing=task.pricing, selection_exponent=scenario.selection_exponent)


def open_task(scenario: Scenario, backend: ChainBackend, deployment: Deployment, requester: Requester,
              validators: list[tuple[Validator, int]], trainers: list[Trainer], bonds: dict[str, int],
              params: torch.Tensor, params_hash: bytes) -> tuple[int, TaskSession]:
    """The requester escrows a task's budget and opens it from the model `params`; each validator
    bonds what it is asked (its amount in `validators`), each trainer its entry in `bonds`.
    Returns the task and the coordinator's session for it (the first task of a world, and each
    next one of a sequence)."""
    deployment.token.mint(requester.address, scenario.task.budget * TOKEN, sender=deployment.owner)
    task_id = requester.open_task(deployment.token, deployment.market, task_rules(
        scenario, [(v.address, amount) for v, amount in validators], params_hash, backend.timestamp()))
    for validator, _ in validators:  # everyone bonds its whole stake to the task
        validator.join(deployment.market, task_id)
    for trainer in trainers:
        trainer.join(deployment.market, task_id, bonds[trainer.address])
    terms = task_terms(scenario, task_id)
    clock = SimulatedClock(backend)
    ports = [LocalValidatorPort(ValidatorDesk(v, deployment.market, terms,
                                              ValidatorSettlement(deployment.market, task_id, v.account, clock),
                                              model_hash=params_hash)) for v, _ in validators]
    session = TaskSession(market=deployment.market, registry=deployment.registry, terms=terms, ports=ports,
                          candidates=[t.address for t in trainers], global_params=params, model_hash=params_hash,
                          clock=clock, board=deployment.board)
    return task_id, session


def build_world(scenario: Scenario) -> World:
    cast = cast_of(scenario)
    backend = make_backend(scenario)
    try:
        return _build_on(scenario, backend, cast.dataset, cast.spec, cast.genesis, cast.trainers, cast.families,
                         cast.validators)
    except BaseException:  # an error or an interrupt while building: stop the node fedstake started
        backend.close()
        raise


def _build_on(scenario: Scenario, backend: ChainBackend, dataset: Dataset, spec: ParamSpec, genesis: torch.Tensor,
              trainers: list[Trainer], families: list, validators: list[tuple[Validator, int]]) -> World:
    seed = scenario.task.seed
    for role in trainers + [v for v, _ in validators]:
        role.stopwatch = backend.stopwatch  # one clock for chain calls and signatures
    owner: Account = derive_account(seed, "owner")
    deployment_block = backend.block_number() + 1
    deployment = deploy_system(backend, owner, insurance=derive_account(seed, "insurance").address,
                               params=settlement_params(scenario))
    stakes = _onboard(deployment, trainers, scenario, validators)
    requester = Requester(derive_account(seed, "requester"))
    genesis_hash = model_hash(spec.unflatten(genesis))
    task_id, session = open_task(scenario, backend, deployment, requester, validators, trainers, stakes, genesis,
                                 genesis_hash)
    terms = session.terms
    edge = None
    if scenario.edge is not None:
        edge = EdgeModel(scenario, [t.address for t in trainers], model_bytes=len(params_bytes(spec.unflatten(genesis))),
                         num_params=spec.size, round_budget=terms.round_budget)
        if terms.auctioned:  # the trainers publish their asks before round 1
            session.asks = ask_book(scenario, edge, trainers, task_id=task_id, domain=session.domain)
    world = World(scenario, dataset, backend, deployment, requester, [v for v, _ in validators], trainers,
                  _behaviours(scenario, trainers, validators), families, stakes, task_id, session, genesis_hash, edge,
                  deployment_block=deployment_block)
    world.keep_model(genesis)
    return world
