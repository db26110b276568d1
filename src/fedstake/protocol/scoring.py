"""Contribution scores, validator consensus and the round's rewards.

Each validator scores the round's accepted updates on its own validation
data and reports the vector (committed on chain in the result's scores
root). Every validator then computes, from all the reported vectors, the
same Yuma consensus, the same Sybil weights and so the same rewards: a
validator that lies about scores is clipped by the consensus and earns
less, but cannot make honest validators disagree about the result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np
import torch
from eth_abi import encode
from eth_utils import keccak

from fedstake.chain.market import ZERO32, scores_leaf
from fedstake.chain.merkle import MerkleTree
from fedstake.econ.rewards import agreement_bonds, allocate, split_budget, validator_rewards
from fedstake.errors import ConfigError, ProtocolError
from fedstake.proof.consensus import consensus, prior_levels
from fedstake.proof.contribution import contribution_game, exact_shapley, gtg_shapley, leave_one_out, trust_scores
from fedstake.proof.sybil import clone_weights
from fedstake.protocol.messages import RoundTask

SCORERS = ("trust", "loo", "gtg-shapley", "exact-shapley")
SCORE_SCALE = 10**18  # scores are committed as fixed-point integers


@dataclass(frozen=True)
class ScoringRules:
    """How a round's contributions are measured and paid (the scenario's `[proof]` and `[rewards]`)."""

    scorer: str = "trust"
    utility: str = "loss"
    kappa: float = 0.5
    agreement_ema: float = 0.2  # weight of this round's agreement in the validators' bonds
    rule: str = "samples"
    validator_share: float = 0.1
    sybil_defence: bool = True
    foolsgold_confidence: float = 1.0
    clone_similarity: float = 0.9
    reference_epochs: int | None = 20  # None: as long as a trainer trains
    gtg: Mapping[str, float | int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.scorer not in SCORERS:
            raise ConfigError("proof.scorer", f"unknown scorer {self.scorer!r}; choose from {list(SCORERS)}")


def score_updates(rules: ScoringRules, updates: torch.Tensor, samples: torch.Tensor, task: RoundTask,
                  reference, *, seed: int) -> np.ndarray:
    """One validator's contribution score of each accepted update, on its own reference data."""
    if len(updates) == 0:
        return np.zeros(0)
    if rules.scorer == "trust":
        reference_update = reference.update(task, epochs=rules.reference_epochs)
        return trust_scores(updates, reference=reference_update).double().numpy()
    game = contribution_game(reference.module, reference.spec, task.global_params, updates, samples,
                             reference.x, reference.y, utility=rules.utility)
    if rules.scorer == "loo":
        return leave_one_out(game).double().numpy()
    if rules.scorer == "exact-shapley":
        return exact_shapley(game).double().numpy()
    return gtg_shapley(game, seed=seed, **dict(rules.gtg)).values.double().numpy()


def scores_hash(round: int, trainers: Sequence[str], scores: Sequence[float]) -> bytes:
    """The commitment to a score vector: keccak(abi.encode(round, trainers, scores as 1e18 fixed point))."""
    fixed = [int(np.rint(s * SCORE_SCALE)) for s in scores]
    return keccak(encode(["uint256", "address[]", "int256[]"], [round, list(trainers), fixed]))


@dataclass(frozen=True)
class RoundRewards:
    """What every validator derives from the same reported scores."""

    trainers: tuple[str, ...]
    reported: dict[str, list[float]]
    consensus: dict[str, float]
    validator_trust: dict[str, float]
    sybil_weights: dict[str, float]
    trainer_rewards: dict[str, int]
    validator_rewards: dict[str, int]
    scores_root: bytes
    validator_bonds: dict[str, float] = field(default_factory=dict)  # agreement EMA after this round


def reward_round(
    rules: ScoringRules,
    round: int,
    trainers: Sequence[str],
    reported: Mapping[str, Sequence[float]],
    stakes: Mapping[str, int],
    *,
    budget: int,
    samples: Mapping[str, int],
    reputation: Mapping[str, int],
    histories: Mapping[str, torch.Tensor],
    bonds: Mapping[str, float] | None = None,
    prior: Mapping[str, float] | None = None,
    prices: Mapping[str, int] | None = None,
    ask_leaves: Sequence[bytes] = (),
) -> RoundRewards:
    """Consensus over `reported` (validator -> score per trainer, in `trainers` order), Sybil weights
    from the trainers' update histories, then the rule's payouts within `budget`. Validators are paid
    by stake x bond: `bonds` (the agreement EMA up to last round) moved by this round's agreement,
    which asks for news against `prior` (last round's consensus, `proof.consensus`).
    A reverse-auction round pays each trainer its auction price (`prices`) instead, if it scores above
    zero, and its scores root also commits to the asks that bid (`ask_leaves`)."""
    validators = sorted(reported)
    trainer_budget, validator_budget = split_budget(budget, validator_share=rules.validator_share)
    leaves = [scores_leaf(v, scores_hash(round, trainers, reported[v])) for v in validators] + list(ask_leaves)
    scores_root = MerkleTree(leaves).root if leaves else ZERO32
    if not trainers:
        return RoundRewards((), dict(reported), {}, {v: 0.0 for v in validators}, {}, {}, {}, scores_root,
                            dict(bonds or {}))  # a round with nothing to score moves no bond
    matrix = np.clip(np.array([list(reported[v]) for v in validators], dtype=np.float64), 0.0, None)
    agreed = consensus(matrix, [stakes[v] for v in validators], kappa=rules.kappa,
                       prior=prior_levels(prior or {}, trainers))
    sybil = _sybil_weights(rules, trainers, histories)
    weighted = {t: float(agreed.consensus[i]) * sybil[t] for i, t in enumerate(trainers)}
    paid = allocate(rules.rule, budget=trainer_budget, accepted=list(trainers), scores=weighted,
                    samples=samples, reputation=reputation) if prices is None \
        else auction_pay(prices, weighted, budget=trainer_budget)
    agreement = {v: float(agreed.validator_agreement[i]) for i, v in enumerate(validators)}
    new_bonds = agreement_bonds(bonds or {}, agreement, ema=rules.agreement_ema)
    validator_paid = validator_rewards(validators, [stakes[v] * new_bonds[v] for v in validators],
                                       validator_budget)  # a negative bond earns nothing (`proportional`)
    return RoundRewards(
        tuple(trainers), {v: list(map(float, reported[v])) for v in validators},
        {t: float(agreed.consensus[i]) for i, t in enumerate(trainers)},
        {v: float(agreed.validator_trust[i]) for i, v in enumerate(validators)},
        sybil, paid, validator_paid, scores_root, new_bonds,
    )


def auction_pay(prices: Mapping[str, int], weighted: Mapping[str, float], *, budget: int) -> dict[str, int]:
    """Each accepted winner's auction price if the consensus (x Sybil weight) scores it above zero;
    an accepted trainer that did not win, or scored nothing, earns nothing."""
    paid = {t: prices.get(t, 0) if w > 0 else 0 for t, w in weighted.items()}
    if sum(paid.values()) > budget:
        raise ProtocolError(f"auction prices {sum(paid.values())} exceed the trainers' budget {budget}")
    return paid


def _sybil_weights(rules: ScoringRules, trainers: Sequence[str], histories: Mapping[str, torch.Tensor]) -> dict:
    """Clone weights (FoolsGold on residual histories, `proof.sybil.clone_weights`) per trainer."""
    if not rules.sybil_defence:
        return {t: 1.0 for t in trainers}
    stacked = np.stack([histories[t].double().numpy() for t in trainers])
    weights = clone_weights(stacked, clone_similarity=rules.clone_similarity, confidence=rules.foolsgold_confidence)
    return {t: float(w) for t, w in zip(trainers, weights)}
