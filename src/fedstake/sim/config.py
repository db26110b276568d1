"""Scenario configuration: one TOML file, validated into frozen typed objects.

Keys are kebab-case. Anything unknown, mistyped or out of range is an
error that names the key (`task.rounds: ...`), raised before any work
starts, so a bad scenario never leaves partial results behind. A key that
acts only through another (`proof.pol-interval` through `proof.pol`) is
such an error when given while the other is off (`DEPENDENT_KEYS`).
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from fedstake.errors import ConfigError


def _kebab(name: str) -> str:
    return name.replace("_", "-")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, alias_generator=_kebab, populate_by_name=True)


DATASETS = Literal["digits", "synthetic", "synthetic-iid"]
AGGREGATORS = Literal["fedavg", "fedavgm", "fedadam", "fedyogi", "fedadagrad", "krum", "multi-krum", "median",
                      "trimmed-mean", "bulyan", "norm-bound", "fltrust", "flame", "centered-clipping"]
TRAINER_BEHAVIOURS = Literal["honest", "label-flip", "sign-flip", "scaling", "gaussian", "alie", "ipm",
                             "free-rider-zero", "free-rider-noise", "free-rider-stale", "sybil",
                             "skip-half", "wrong-data", "copy", "nan", "wrong-shape", "huge-norm"]
DEFAULT_TRAINERS = 20  # a scenario without [[trainers]] has one honest group of this many
MAX_EXPONENT_DENOMINATOR = 100  # bond ** (p/q) is the integer q-th root of bond ** p: q bounds its cost
ATTACK_PARAMS = ("lambda", "boost", "sigma", "z", "epsilon", "scale", "clones")


class TaskConfig(_Section):
    dataset: DATASETS = "digits"
    synthetic_alpha: float = Field(1.0, ge=0, description="Synthetic(alpha, beta): model heterogeneity")
    synthetic_beta: float = Field(1.0, ge=0, description="Synthetic(alpha, beta): data heterogeneity")
    partition: Literal["iid", "dirichlet", "shards", "natural"] = "dirichlet"
    dirichlet_alpha: float = Field(0.5, gt=0)
    shards_per_client: int = Field(2, ge=1)
    model: Literal["logreg", "mlp", "cnn"] = "mlp"
    rounds: int = Field(30, ge=1, le=10_000)
    clients_per_round: int = Field(10, ge=1)
    local_epochs: int = Field(5, ge=1)
    batch_size: int = Field(16, ge=1)
    learning_rate: float = Field(0.1, gt=0)
    proximal_mu: float = Field(0.0, ge=0, description="FedProx proximal term; 0 = plain FedAvg local training")
    aggregator: AGGREGATORS = Field("fltrust", description="fltrust holds across the robustness grid (README); "
                                    "with [privacy] and no aggregator given, fedavg (the DP mean)")
    budget: int = Field(10_000, gt=0, description="whole tokens escrowed by the requester")
    seed: int = Field(0, ge=0)
    validation_share: float = Field(0.1, gt=0, lt=0.5, description="digits: held-out share the validators score on")
    selection: Literal["stake", "stake-reputation"] = Field("stake-reputation",
                                                            description="how the round seed draws the cohort")
    settle_every: int = Field(1, ge=1, description="a rewards root every k rounds (1 = per-round settlement)")
    pricing: Literal["fixed", "reverse-auction"] = Field(
        "fixed", description="fixed: the cohort drawn by stake, each round's budget split by rewards.rule; "
                             "reverse-auction: trainers' signed asks, winners by quality per unit of price, each "
                             "paid its critical price within the round's budget")
    selection_stake_exponent: float = Field(1.0, gt=0, le=1, description="the cohort draw weighs bond ** this: 1 "
                                            "draws by stake, below 1 sub-linearly (a fraction p/q, q <= 100, "
                                            "computed in integers so everyone draws the same cohort)")
    tasks: int = Field(1, ge=1, le=1_000, description="a sequence of this many tasks of task.rounds rounds each, "
                       "every one with its own budget, opened one after another for the same participants")
    cohort_training: Literal["vectorised", "one-by-one"] = Field(
        "vectorised", description="the simulator trains a cohort in one torch.func batch, or each trainer alone as a "
                                  "device does (the same bytes as a federation's nodes; the batch differs in the last bits)")


class TrainerGroup(_Section):
    count: int = Field(ge=1)
    behaviour: TRAINER_BEHAVIOURS = "honest"
    stake: int = Field(100, gt=0, description="whole tokens")
    lambda_: float | None = Field(None, alias="lambda", description="sign-flip: minus lambda x honest update")
    boost: float | None = Field(None, description="scaling: factor (default cohort size / attackers)")
    sigma: float | None = Field(None, description="gaussian: noise std")
    z: float | None = Field(None, description="alie: z (default from the paper's formula)")
    epsilon: float | None = Field(None, description="ipm: minus epsilon x honest mean")
    scale: float | None = Field(None, description="free-rider-noise: norm relative to the last global change")
    clones: int | None = Field(None, description="sybil: identities per real device (default: the whole group)")
    ask_factor: float | None = Field(None, gt=0, le=1_000, description="reverse-auction: the group asks this multiple "
                                     "of its true cost per round (1, the default, is an honest ask)")

    def attack_params(self) -> dict[str, float | int]:
        values = {name: getattr(self, "lambda_" if name == "lambda" else name) for name in ATTACK_PARAMS}
        return {name: value for name, value in values.items() if value is not None}


class ValidatorGroup(_Section):
    count: int = Field(1, ge=1)
    stake: int = Field(1_000, gt=0, description="whole tokens")
    behaviour: Literal["honest", "self-pay", "random", "collude", "lazy-copy", "late-copy"] = "honest"
    colludes_with: int | None = Field(None, ge=0, description="collude: the trainer group it inflates")


class ChainConfig(_Section):
    backend: Literal["embedded", "rpc"] = "embedded"
    rpc_url: str | None = Field(None, description="JSON-RPC node; with backend = rpc and no URL, fedstake starts anvil")
    min_stake: int = Field(10, ge=0, description="whole tokens")
    unbond_delay: int = Field(7 * 24 * 3600, ge=0, description="seconds before unbonded (free) stake can be withdrawn")
    challenge_window: int = Field(600, ge=0, description="seconds a round's result can be disputed")
    vote_period: int = Field(600, ge=1, description="seconds validators have to vote on a dispute")
    challenge_bond: int = Field(10, ge=1, description="whole tokens a challenger puts up (at least min-stake / 10)")
    bounty_bps: int = Field(5_000, ge=0, le=10_000, description="challenger's share of a slash")
    trainer_slash_bps: int = Field(10_000, ge=0, le=10_000)
    validator_slash_bps: int = Field(5_000, ge=0, le=10_000)
    reputation_cut_bps: int = Field(5_000, ge=0, le=10_000)


class ScreeningConfig(_Section):
    max_norm: float = Field(20.0, gt=0, description="largest accepted L2 norm of an update")


class RewardsConfig(_Section):
    claim_every: int = Field(10, ge=0, description="trainers claim every k rounds; 0 = only at the end")
    rule: Literal["equal", "samples", "contribution", "loo", "shapley", "reputation"] = "samples"
    validator_share: float = Field(0.1, ge=0, lt=1, description="share of each round's budget paid to validators")
    reinvest: bool = Field(False, description="at each task's end every participant claims and restakes what it "
                           "was paid, and bonds it all to the next task (compounding, after Fanti et al. 2019)")


class ProofConfig(_Section):
    scorer: Literal["trust", "loo", "gtg-shapley", "exact-shapley"] = "trust"
    utility: Literal["loss", "accuracy"] = "loss"
    kappa: float = Field(0.5, gt=0, le=1, description="stake share whose scores the consensus must have")
    agreement_ema: float = Field(0.2, gt=0, le=1, description="weight of a round's agreement with the consensus "
                                 "in each validator's bond, which its pay follows (1: this round alone)")
    sybil_defence: bool = Field(True, description="FoolsGold weights on update histories")
    foolsgold_confidence: float = Field(1.0, gt=0)
    clone_similarity: float = Field(0.9, gt=0, le=1, description="residual-history cosine from which an identity "
                                    "counts as a possible clone")
    reference_epochs: int = Field(20, ge=1, description="trust scorer: epochs a validator trains its reference "
                                  "update for on its own data (longer than a trainer, for a steady direction)")
    gtg_eps: float = Field(0.001, ge=0)
    gtg_truncation: float = Field(0.01, ge=0)
    gtg_convergence: float = Field(0.05, gt=0)
    pol: bool = Field(False, description="proof-of-learning: transcripts, and spot checks after each quorum")
    pol_interval: int = Field(1, ge=1, description="steps between checkpoints")
    pol_segments: int = Field(3, ge=1, description="segments re-executed per checked update")
    pol_tolerance: float = Field(1e-2, gt=0, description="relative distance a re-run may differ by (rounding)")


class EdgeConfig(_Section):
    """Devices, links and time at the edge (present = rounds run on a simulated clock)."""

    mix: dict[str, float] = Field(default_factory=lambda: {"phone": 0.7, "iot": 0.15, "vehicle": 0.1,
                                                           "edge-server": 0.05})
    deadline: float | None = Field(None, gt=0, description="seconds after a round opens; later updates are dropped")
    topology: Literal["flat", "hierarchical"] = "flat"
    edges: int = Field(1, ge=1, description="MEC aggregators in a hierarchical topology")
    backhaul_mbps: float = Field(1000.0, gt=0)
    backhaul_rtt_ms: float = Field(20.0, ge=0)
    chain_profile: Literal["embedded", "l2", "l2-finalized", "ethereum"] = "embedded"
    block_time: float | None = Field(None, gt=0, description="override the chain profile's block time (s)")
    finality: float | None = Field(None, ge=0, description="override the chain profile's finality (s)")
    availability_leave: float = Field(0.0, ge=0, le=1, description="chance an online device goes offline per round")
    availability_return: float = Field(1.0, ge=0, le=1, description="chance an offline device comes back per round")
    aggregate_time: float = Field(0.0, ge=0, description="seconds validators take to screen and aggregate")
    model_bytes: int | None = Field(None, gt=0, description="time the links as if the model (and each update) had "
                                    "this size, e.g. a production model while training a small one")
    flops_per_sample: float | None = Field(None, gt=0, description="time the devices as if training cost this much")


class CostsConfig(_Section):
    """What a round costs a device, and how devices decide to take part."""

    participation: Literal["always", "rational", "volunteer"] = "always"
    energy_price: float = Field(0.30, ge=0, description="tokens per kWh")
    bandwidth_price: float = Field(2.0, ge=0, description="tokens per GB on metered links")
    reservation: float = Field(0.0, ge=0, description="tokens a device needs above its cost to take part")
    reservation_spread: float = Field(0.0, ge=0)
    smoothing: float = Field(0.3, gt=0, le=1, description="rational devices' moving average of what they received")
    intrinsic_value: float = Field(1.0, ge=0, description="volunteers: value of a round to a willing device")
    intrinsic_spread: float = Field(0.5, ge=0)
    volunteer_decay: float = Field(0.95, gt=0, le=1)


class CompareConfig(_Section):
    """What the mechanisms of `fedstake compare` cost besides the run itself."""

    epoch_length: int = Field(5, ge=1, description="epoch settlement: a rewards root every k rounds")
    claim_every: int = Field(0, ge=0, description="on chain, trainers send a claim every k rounds (0: at the end); "
                             "a reward is theirs once its root is final, whenever they claim it")
    central_fee: float = Field(0.20, ge=0, lt=1, description="a central orchestrator's cut of the budget")
    central_payout_days: float = Field(60.0, ge=0, description="days from project end until it pays")
    gas_price_gwei: float = Field(1.0, ge=0)
    tokens_per_eth: float = Field(2_000.0, gt=0)
    attack_share: float = Field(1 / 3, gt=0, le=1, description="share of a cohort an attacker wants to control")


class AttackersConfig(_Section):
    """A share of the trainers attacking, split evenly over one attack or a mix of several: the
    robustness grid's cells as two keys a sweep can vary (`--vary attackers.kinds=...`)."""

    share: float = Field(ge=0, lt=1, description="of all trainers, rounded to whole trainers (0: no attackers)")
    kinds: str = Field(description='one trainer behaviour, or a mix joined by "+", e.g. "sign-flip+scaling"')


def split_attackers(raw: dict[str, Any]) -> dict[str, Any]:
    """The scenario with its `[attackers]` section written out as trainer groups: the honest groups
    first, shortened from the last one, then one group per kind (the first kinds one larger when
    the attackers do not divide evenly). The result is an ordinary scenario, so results.json
    shows the groups that ran and re-reading it gives the same scenario."""
    if "attackers" not in raw:
        return raw
    try:
        section = AttackersConfig.model_validate(raw["attackers"])
    except ValidationError as exc:
        first = exc.errors()[0]
        problem = "unknown key" if first["type"] == "extra_forbidden" else first["msg"]
        raise ConfigError(_location(("attackers", *first["loc"])), problem) from None
    kinds = [k.strip() for k in section.kinds.split("+")]
    allowed = [b for b in TRAINER_BEHAVIOURS.__args__ if b != "honest"]
    for kind in kinds:
        if kind not in allowed:
            raise ConfigError("attackers.kinds", f"{kind!r} is not an attack; choose from {', '.join(allowed)}")
    if len(set(kinds)) < len(kinds):
        raise ConfigError("attackers.kinds", f"{section.kinds!r} names a kind twice")
    groups = [dict(g) for g in raw.get("trainers", [{"count": DEFAULT_TRAINERS}])]
    for i, group in enumerate(groups):
        if group.get("behaviour", "honest") != "honest":
            raise ConfigError(f"trainers.{i}.behaviour", "[attackers] turns honest trainers into attackers; with it, "
                              "every [[trainers]] group is honest (write attacker groups yourself, or drop [attackers])")
    total = sum(int(g.get("count", 0)) for g in groups)
    attackers = round(section.share * total)
    if section.share > 0 and attackers == 0:
        raise ConfigError("attackers.share", f"{section.share:g} of {total} trainers rounds to no attacker")
    if attackers >= total:
        raise ConfigError("attackers.share", f"{section.share:g} of {total} trainers leaves no honest trainer")
    stake = {"stake": groups[-1]["stake"]} if "stake" in groups[-1] else {}
    left = attackers
    for group in reversed(groups):
        taken = min(left, int(group.get("count", 0)))
        group["count"] = int(group.get("count", 0)) - taken
        left -= taken
    counts = [attackers // len(kinds) + (i < attackers % len(kinds)) for i in range(len(kinds))]
    raw = {k: v for k, v in raw.items() if k != "attackers"}
    raw["trainers"] = [g for g in groups if g["count"] > 0] + [
        {"count": c, "behaviour": k, **stake} for k, c in zip(kinds, counts) if c]
    return raw


class PrivacyConfig(_Section):
    clip_norm: float = Field(1.0, gt=0)
    noise_multiplier: float = Field(1.0, gt=0)
    delta: float = Field(1e-5, gt=0, lt=1)


class Scenario(_Section):
    task: TaskConfig = TaskConfig()
    aggregator: dict[str, float | int | None | dict[str, float | int | None]] = Field(default_factory=dict)
    trainers: list[TrainerGroup] = Field(default_factory=lambda: [TrainerGroup(count=DEFAULT_TRAINERS)], min_length=1)
    validators: list[ValidatorGroup] = Field(default_factory=lambda: [ValidatorGroup()], min_length=1)
    chain: ChainConfig = ChainConfig()
    screening: ScreeningConfig = ScreeningConfig()
    rewards: RewardsConfig = RewardsConfig()
    proof: ProofConfig = ProofConfig()
    privacy: PrivacyConfig | None = None
    edge: EdgeConfig | None = None
    costs: CostsConfig = CostsConfig()
    compare: CompareConfig = CompareConfig()

    @property
    def selection_exponent(self) -> Fraction:
        """task.selection-stake-exponent as the exact fraction the cohort draw uses."""
        return Fraction(str(self.task.selection_stake_exponent))

    @property
    def trainer_count(self) -> int:
        return sum(g.count for g in self.trainers)

    def aggregator_params(self) -> dict[str, float | int | None]:
        """The chosen aggregator's parameters: top-level `[aggregator]` keys, then its own
        `[aggregator.<name>]` table (so one file can carry every rule's settings, for sweeps)."""
        shared = {k: v for k, v in self.aggregator.items() if not isinstance(v, dict)}
        own = self.aggregator.get(self.task.aggregator, {})
        return {**shared, **(own if isinstance(own, dict) else {})}

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        from fedstake.learn.aggregators import make_aggregator
        from fedstake.learn.attacks import make_behaviour

        check_dependent_keys(self)
        if self.task.clients_per_round > self.trainer_count:
            raise ConfigError(
                "task.clients-per-round", f"{self.task.clients_per_round} exceeds the {self.trainer_count} trainers"
            )
        for i, group in enumerate(self.trainers):
            if group.stake < self.chain.min_stake:
                raise ConfigError(f"trainers.{i}.stake", f"{group.stake} is below chain.min-stake {self.chain.min_stake}")
            make_behaviour(group.behaviour, group.attack_params(), key=f"trainers.{i}")
        if self.rewards.rule in ("loo", "shapley") and self.proof.scorer == "trust":
            raise ConfigError("rewards.rule", f"{self.rewards.rule!r} pays by contribution values: "
                              "set proof.scorer to 'loo', 'gtg-shapley' or 'exact-shapley'")
        for i, group in enumerate(self.validators):
            if group.colludes_with is not None and group.colludes_with >= len(self.trainers):
                raise ConfigError(f"validators.{i}.colludes-with", f"no trainer group {group.colludes_with}")
        if self.proof.pol and self.privacy is not None:
            raise ConfigError("proof.pol", "client-level DP noises the update after training, so its last checkpoint "
                              "cannot match: proof-of-learning and [privacy] cannot both be on")
        if self.task.settle_every > self.task.rounds:
            raise ConfigError("task.settle-every", f"{self.task.settle_every} exceeds task.rounds {self.task.rounds}")
        if self.chain.challenge_bond * 10 < self.chain.min_stake or self.chain.challenge_bond == 0:
            raise ConfigError("chain.challenge-bond", f"{self.chain.challenge_bond} is below a tenth of chain.min-stake "
                              f"{self.chain.min_stake}: a dispute must cost its challenger something")
        for name, table in self.aggregator.items():
            if isinstance(table, dict):
                if name not in AGGREGATORS.__args__:
                    raise ConfigError(f"aggregator.{name}", f"not an aggregator; choose from {list(AGGREGATORS.__args__)}")
                try:
                    make_aggregator(name, table)
                except ConfigError as exc:
                    raise ConfigError(exc.key.replace("aggregator.", f"aggregator.{name}.", 1), exc.problem) from None
        if self.selection_exponent.denominator > MAX_EXPONENT_DENOMINATOR:
            raise ConfigError("task.selection-stake-exponent", f"{self.task.selection_stake_exponent} is not a fraction "
                              f"p/q with q <= {MAX_EXPONENT_DENOMINATOR} (e.g. 0.5, 0.75, 0.33): the draw takes an "
                              "integer q-th root")
        if self.task.tasks > 1 and self.edge is not None:
            raise ConfigError("task.tasks", "a sequence of tasks runs without an [edge] section (the edge clock "
                              "and devices follow one task's rounds); drop one of them")
        self._check_cohort()
        if self.task.pricing == "reverse-auction" and self.edge is None:
            raise ConfigError("task.pricing", "'reverse-auction' needs an [edge] section: a trainer asks what a round "
                              "costs its device (energy and bandwidth at [costs] prices, plus its reservation)")
        if self.costs.participation != "always" and self.edge is None:
            raise ConfigError("costs.participation", f"{self.costs.participation!r} needs an [edge] section: devices "
                              "weigh their costs only on a simulated edge")
        return self

    def _check_cohort(self) -> None:
        """The aggregator can aggregate the updates a round can bring: at most task.clients-per-round,
        and with an edge model, about the share of them online (the availability chain's steady state)."""
        from fedstake.learn.aggregators import make_aggregator

        aggregator = make_aggregator(self.task.aggregator, self.aggregator_params())
        need, selected = aggregator.min_updates, self.task.clients_per_round
        settings = ", ".join(f"aggregator.{k} = {v}" for k, v in aggregator.params.items() if v is not None)
        rule = f"{aggregator.name}" + (f" ({settings})" if settings else "")
        if need > selected:
            raise ConfigError("task.aggregator", f"{rule} needs at least {need} trainers per round, but "
                              f"task.clients-per-round is {selected}: select more trainers or lower the parameter")
        online = self.expected_online()
        if need > online:
            raise ConfigError("task.aggregator", f"{rule} needs at least {need} updates per round, but with "
                              f"edge.availability-leave = {self.edge.availability_leave} and edge.availability-return = "
                              f"{self.edge.availability_return} only about {online:.0f} of the {selected} selected "
                              "devices are online in a round")

    def expected_online(self) -> float:
        """Selected trainers online in a typical round: all of them without an edge model, else the
        steady-state share of the devices' two-state availability chain."""
        import numpy as np

        from fedstake.edge.availability import stationary_online

        if self.edge is None:
            return float(self.task.clients_per_round)
        share = stationary_online(np.array([self.edge.availability_leave]), np.array([self.edge.availability_return]))
        return self.task.clients_per_round * float(share[0])


@dataclass(frozen=True)
class Needs:
    """`key` acts only when `enabler` (a key, or a section when `condition` is None) meets
    `condition`, written as in a scenario file; `holds` tests the enabler's value."""

    key: str
    enabler: str
    condition: str | None
    holds: Callable[[Any], bool]

    def problem(self, value: Any) -> str:
        if self.condition is None:
            return f"only acts with an [{self.enabler}] section (there is none); add one or drop {self.key}"
        return f"only acts with {self.enabler} {self.condition} (it is {_toml(value)}); set it or drop {self.key}"


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return f'"{value}"' if isinstance(value, str) else repr(value)


def _one_of(enabler: str, key: str, *values: Any) -> Needs:
    return Needs(key, enabler, "= " + " | ".join(_toml(v) for v in values), lambda v: v in values)


def _positive(enabler: str, key: str) -> Needs:
    return Needs(key, enabler, "> 0", lambda v: v > 0)


def _section(enabler: str, key: str) -> Needs:
    return Needs(key, enabler, None, lambda v: v is not None)


CONTRIBUTION_SCORERS = ("loo", "gtg-shapley", "exact-shapley")

# Every key of a section that acts only through another key; the rest of the pairs depend on
# the catalogues of behaviours and aggregators (see `dependent_keys`).
DEPENDENT_KEYS: tuple[Needs, ...] = (
    _one_of("task.dataset", "task.synthetic-alpha", "synthetic"),
    _one_of("task.dataset", "task.synthetic-beta", "synthetic"),
    _one_of("task.dataset", "task.validation-share", "digits"),
    _one_of("task.partition", "task.dirichlet-alpha", "dirichlet"),
    _one_of("task.partition", "task.shards-per-client", "shards"),
    _one_of("chain.backend", "chain.rpc-url", "rpc"),
    Needs("rewards.reinvest", "task.tasks", "> 1", lambda v: v > 1),
    _one_of("proof.scorer", "proof.utility", *CONTRIBUTION_SCORERS),
    _one_of("proof.scorer", "proof.reference-epochs", "trust"),
    _one_of("proof.scorer", "proof.gtg-eps", "gtg-shapley"),
    _one_of("proof.scorer", "proof.gtg-truncation", "gtg-shapley"),
    _one_of("proof.scorer", "proof.gtg-convergence", "gtg-shapley"),
    _one_of("proof.sybil-defence", "proof.foolsgold-confidence", True),
    _one_of("proof.sybil-defence", "proof.clone-similarity", True),
    _one_of("proof.pol", "proof.pol-interval", True),
    _one_of("proof.pol", "proof.pol-segments", True),
    _one_of("proof.pol", "proof.pol-tolerance", True),
    _one_of("edge.topology", "edge.edges", "hierarchical"),
    _one_of("edge.topology", "edge.backhaul-mbps", "hierarchical"),
    _one_of("edge.topology", "edge.backhaul-rtt-ms", "hierarchical"),
    _section("edge", "costs.energy-price"),
    _section("edge", "costs.bandwidth-price"),
    _one_of("costs.participation", "costs.reservation", "rational", "volunteer"),
    _one_of("costs.participation", "costs.reservation-spread", "rational", "volunteer"),
    _positive("costs.reservation", "costs.reservation-spread"),
    _one_of("costs.participation", "costs.smoothing", "rational"),
    _one_of("costs.participation", "costs.intrinsic-value", "volunteer"),
    _one_of("costs.participation", "costs.intrinsic-spread", "volunteer"),
    _positive("costs.intrinsic-value", "costs.intrinsic-spread"),
    _one_of("costs.participation", "costs.volunteer-decay", "volunteer"),
)


def dependent_keys(scenario: Scenario) -> Iterator[Needs]:
    """`DEPENDENT_KEYS`, then each trainer group's attack parameters (only the behaviours that take
    them), each validator group's `colludes-with`, and each top-level `[aggregator]` key (only the
    rules that take it; a per-rule `[aggregator.<name>]` table may sit unused, for sweeps)."""
    from fedstake.learn.aggregators import make_aggregator
    from fedstake.learn.attacks import NAMES, make_behaviour

    yield from DEPENDENT_KEYS
    takes = {param: tuple(n for n in NAMES if param in make_behaviour(n).params) for param in ATTACK_PARAMS}
    for i in range(len(scenario.trainers)):
        for param in ATTACK_PARAMS:
            yield _one_of(f"trainers.{i}.behaviour", f"trainers.{i}.{param}", *takes[param])
    for i in range(len(scenario.trainers)):
        yield _one_of("task.pricing", f"trainers.{i}.ask-factor", "reverse-auction")
    for i in range(len(scenario.validators)):
        yield _one_of(f"validators.{i}.behaviour", f"validators.{i}.colludes-with", "collude")
    rules = {name: make_aggregator(name).params for name in AGGREGATORS.__args__}
    for key, value in scenario.aggregator.items():
        users = tuple(name for name, params in rules.items() if key in params)
        if not isinstance(value, dict) and users:  # a key no rule takes is an unknown key (`make_aggregator`)
            yield _one_of("task.aggregator", f"aggregator.{key}", *users)


def _walk(scenario: Scenario, dotted: str) -> tuple[Any, str]:
    """The object holding the last part of `dotted`, and that part."""
    *parents, last = dotted.split(".")
    node: Any = scenario
    for part in parents:
        node = node[int(part)] if part.isdigit() else getattr(node, part.replace("-", "_"))
    return node, last


def _value(scenario: Scenario, dotted: str) -> Any:
    node, last = _walk(scenario, dotted)
    return getattr(node, last.replace("-", "_"))


def _written(scenario: Scenario, dotted: str) -> bool:
    """Whether the scenario file or an override gave `dotted` (not merely its default)."""
    node, last = _walk(scenario, dotted)
    if node is None:
        return False
    if isinstance(node, dict):
        return last in node
    fields = {field.alias or name: name for name, field in type(node).model_fields.items()}
    # TOML has no null: a None is always a default (as a resolved scenario writes it)
    return fields[last] in node.model_fields_set and getattr(node, fields[last]) is not None


def check_dependent_keys(scenario: Scenario) -> None:
    """A key given while the key it acts through is off would be silently ignored: an error naming both."""
    for needs in dependent_keys(scenario):
        if _written(scenario, needs.key):
            value = _value(scenario, needs.enabler)
            if not needs.holds(value):
                raise ConfigError(needs.key, needs.problem(value))


def _location(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc) or "scenario"


def _private_mean_by_default(raw: dict[str, Any]) -> dict[str, Any]:
    """With [privacy] and no aggregator given, the DP mean instead of FLTrust: the privacy bound is
    for a mean of clipped, noised updates, and FLTrust's rescaling to its root's norm breaks it."""
    task = raw.get("task", {})
    if "privacy" not in raw or not isinstance(task, dict) or "aggregator" in task:
        return raw
    return {**raw, "task": {**task, "aggregator": "fedavg"}}


def parse_scenario(raw: dict[str, Any]) -> Scenario:
    """Validate a raw mapping; the first problem becomes a `ConfigError` naming its key."""
    try:
        return Scenario.model_validate(_private_mean_by_default(split_attackers(raw)))
    except ValidationError as exc:
        first = exc.errors()[0]
        original = first.get("ctx", {}).get("error")
        if isinstance(original, ConfigError):
            raise original from None
        message = first["msg"].removeprefix("Value error, ")
        if first["type"] == "extra_forbidden":
            message = "unknown key"
        elif first["type"] == "literal_error":
            message = f"{first['input']!r} is not allowed; {first['msg'].lower()}"
        raise ConfigError(_location(first["loc"]), message) from None


def _set_path(raw: dict[str, Any], dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    node: Any = raw
    for i, part in enumerate(parts[:-1]):
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                raise ConfigError(".".join(parts[: i + 1]), f"no list item {part}")
            node = node[int(part)]
        else:
            node = node.setdefault(part, [] if parts[i + 1].isdigit() else {})
            if not isinstance(node, (dict, list)):
                raise ConfigError(".".join(parts[: i + 1]), "is a value, not a section")
    last = parts[-1]
    if isinstance(node, list):
        if not last.isdigit() or int(last) >= len(node):
            raise ConfigError(dotted, f"no list item {last}")
        node[int(last)] = value
    else:
        node[last] = value


def parse_override(text: str) -> tuple[str, Any]:
    """`section.key=value`, the value read as a TOML literal (bare words are strings)."""
    key, sep, literal = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ConfigError(text, "an override must look like section.key=value")
    try:
        value = tomllib.loads(f"v = {literal.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = literal.strip()
    return key, value


def load_scenario(path: Path | None, overrides: list[str] = ()) -> Scenario:
    """Read a TOML scenario (or the defaults when `path` is None) and apply `--set` overrides."""
    raw: dict[str, Any] = {}
    if path is not None:
        try:
            raw = tomllib.loads(Path(path).read_text())
        except FileNotFoundError:
            raise ConfigError("--config", f"no such file {path}") from None
        except IsADirectoryError:
            raise ConfigError("--config", f"{path} is a directory; --config names a scenario .toml file") from None
        except OSError as exc:
            raise ConfigError("--config", f"cannot read {path}: {exc.strerror}") from None
        except UnicodeDecodeError:
            raise ConfigError("--config", f"{path} is not a text file") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError("--config", f"{path} is not valid TOML: {exc}") from None
    defaults = Scenario()
    for text in overrides:
        key, value = parse_override(text)
        section = key.split(".", 1)[0]
        groups = getattr(defaults, section.replace("-", "_"), None) if section in Scenario.model_fields else None
        if isinstance(groups, list) and section not in raw:  # `trainers.0.count=5` edits the default group
            raw[section] = [g.model_dump(by_alias=True, mode="json", exclude_unset=True) for g in groups]
        _set_path(raw, key, value)
    return parse_scenario(raw)


def resolved(scenario: Scenario) -> dict[str, Any]:
    """The scenario with every default filled in, kebab-case, as written to results.json."""
    return scenario.model_dump(by_alias=True, mode="json")
