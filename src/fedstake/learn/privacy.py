"""Client-level differential privacy: clip, noise, aggregate, account.

Distributed DP-FedAvg. Each trainer clips its update to L2 norm C and adds
Gaussian noise of std sigma*C/sqrt(m), m the expected cohort, so that the
*sum* of m updates carries N(0, (sigma*C)^2) per coordinate: the Gaussian
mechanism on a sum whose sensitivity to one trainer is C. The DP aggregate
is the unweighted mean (McMahan et al. 2018, "Learning differentially private
recurrent language models"): weighting by claimed sample counts would let
one trainer's influence exceed C and would publish the counts un-noised.

What is protected: every model derived from the sum (the global models
whose hashes go on chain and the minted final model). Validators see each
update with only sigma*C/sqrt(m) noise and are trusted not to leak it, as
the server is in McMahan et al.; there is no secure aggregation here.

Accounting: each round is a Poisson-subsampled Gaussian mechanism with
q = cohort / trainers, composed in dp-accounting's RDP accountant. The
cohort is really a fixed-size stake-weighted draw; treating it as Poisson
with q = m/N is the usual approximation and is exact in q only for equal
stakes (pass the largest inclusion probability for a worst-case figure).
When only m' < m noised updates arrive, the sum's noise std is
sigma*C*sqrt(m'/m): that round is accounted with the effective multiplier
sigma*sqrt(m'/m) and flagged under-calibrated.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch

from fedstake.errors import ConfigError, LearningError
from fedstake.learn.aggregators import fedavg


def _check_positive(key: str, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise ConfigError(key, f"must be a finite number > 0, got {value!r}")


def _check_cohort(expected_cohort: int) -> None:
    if isinstance(expected_cohort, bool) or not isinstance(expected_cohort, int) or expected_cohort < 1:
        raise ConfigError("task.clients-per-round", f"the expected cohort must be a whole number >= 1, "
                                                    f"got {expected_cohort!r}")


def clip_update(flat: torch.Tensor, *, clip_norm: float) -> torch.Tensor:
    """Scales `flat` down to L2 norm `clip_norm` if it is longer; shorter updates pass unchanged."""
    _check_positive("privacy.clip-norm", clip_norm)
    if flat.ndim != 1:
        raise LearningError(f"clip_update needs a flat update, got shape {tuple(flat.shape)}")
    norm = float(flat.to(torch.float64).norm())
    return flat.clone() if norm <= clip_norm else (flat.to(torch.float64) * (clip_norm / norm)).to(flat.dtype)


def client_noise_std(*, clip_norm: float, noise_multiplier: float, expected_cohort: int) -> float:
    """Per-coordinate std of one trainer's share, sigma*C/sqrt(m), so m shares sum to sigma*C."""
    _check_positive("privacy.clip-norm", clip_norm)
    _check_positive("privacy.noise-multiplier", noise_multiplier)
    _check_cohort(expected_cohort)
    return noise_multiplier * clip_norm / math.sqrt(expected_cohort)


def add_client_noise(flat: torch.Tensor, *, clip_norm: float, noise_multiplier: float, expected_cohort: int,
                     generator: torch.Generator) -> torch.Tensor:
    """`flat` plus this trainer's share of the round's Gaussian noise."""
    std = client_noise_std(clip_norm=clip_norm, noise_multiplier=noise_multiplier, expected_cohort=expected_cohort)
    return flat + std * torch.randn(flat.shape, generator=generator, dtype=flat.dtype)


def typical_private_norm(*, clip_norm: float, noise_multiplier: float, expected_cohort: int,
                         num_params: int) -> float:
    """The L2 norm a privatised update is expected to have, at most sqrt(C^2 + P*std^2).

    The noise alone has norm ~std*sqrt(P) (tightly: its spread is ~std/sqrt(2)), so a
    screening norm bound below this rejects honest DP trainers.
    """
    std = client_noise_std(clip_norm=clip_norm, noise_multiplier=noise_multiplier, expected_cohort=expected_cohort)
    return math.sqrt(clip_norm**2 + num_params * std**2)


def unweighted_mean(updates: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """The DP aggregate: every accepted update counts once, whatever sample count it claims.

    Takes `weights` only to fit the aggregator signature; ignoring them is the point.
    """
    return fedavg(updates, torch.ones(len(updates)))


@dataclass(frozen=True)
class ClientPrivacy:
    """A trainer's DP settings; `privatise` clips then noises its update."""

    clip_norm: float
    noise_multiplier: float
    expected_cohort: int

    def __post_init__(self) -> None:
        client_noise_std(clip_norm=self.clip_norm, noise_multiplier=self.noise_multiplier,
                         expected_cohort=self.expected_cohort)

    def privatise(self, flat: torch.Tensor, *, generator: torch.Generator) -> torch.Tensor:
        clipped = clip_update(flat, clip_norm=self.clip_norm)
        return add_client_noise(clipped, clip_norm=self.clip_norm, noise_multiplier=self.noise_multiplier,
                                expected_cohort=self.expected_cohort, generator=generator)


@dataclass(frozen=True)
class PrivacyRecord:
    """One accounted round. `noise_multiplier_effective` is None when nothing arrived:
    the model does not move, nothing is released and nothing is composed."""

    round: int
    epsilon: float
    noise_multiplier_effective: float | None
    calibrated_for: int
    received: int
    under_calibrated: bool


class PrivacyAccountant:
    """Epsilon at `delta` after each round, from dp-accounting's RDP accountant.

    The RDP curve of one round's event is computed once per distinct effective
    multiplier and summed (composing an event costs ~30 ms; rounds mostly repeat).
    dp-accounting is imported here, not with the module: it costs more than a second
    (scipy), and a run without privacy never needs it.
    """

    def __init__(self, *, noise_multiplier: float, sampling_rate: float, delta: float) -> None:
        _check_positive("privacy.noise-multiplier", noise_multiplier)
        if isinstance(delta, bool) or not isinstance(delta, (int, float)) or not 0 < delta < 1:
            raise ConfigError("privacy.delta", f"must be a number in (0, 1), got {delta!r}")
        if isinstance(sampling_rate, bool) or not isinstance(sampling_rate, (int, float)) or not 0 < sampling_rate <= 1:
            raise ConfigError("task.clients-per-round", f"the sampling rate q = cohort / trainers must be in "
                                                        f"(0, 1], got {sampling_rate!r}")
        from dp_accounting.rdp import RdpAccountant

        self.noise_multiplier, self.sampling_rate, self.delta = float(noise_multiplier), float(sampling_rate), delta
        self._orders = RdpAccountant().orders
        self._rdp = np.zeros(len(self._orders))
        self._rdp_of: dict[float, np.ndarray] = {}
        self._records: list[PrivacyRecord] = []

    @property
    def epsilon(self) -> float:
        """Epsilon spent so far (0 before any release)."""
        return self._records[-1].epsilon if self._records else 0.0

    @property
    def records(self) -> tuple[PrivacyRecord, ...]:
        return tuple(self._records)

    def record_round(self, *, received: int, expected: int) -> PrivacyRecord:
        """Accounts a round in which `received` of the `expected` noised updates were aggregated."""
        from dp_accounting.rdp.rdp_privacy_accountant import compute_epsilon

        if expected < 1 or received < 0:
            raise LearningError(f"a round needs expected >= 1 and received >= 0, got {expected=} {received=}")
        effective = self.noise_multiplier * math.sqrt(received / expected) if received else None
        if effective is not None:
            self._rdp = self._rdp + self._round_rdp(effective)
        epsilon = float(compute_epsilon(self._orders, self._rdp, self.delta)[0])
        record = PrivacyRecord(len(self._records) + 1, epsilon, effective, expected, received,
                               under_calibrated=0 < received < expected)
        self._records.append(record)
        return record

    def _round_rdp(self, noise_multiplier: float) -> np.ndarray:
        if noise_multiplier not in self._rdp_of:
            from dp_accounting import GaussianDpEvent, PoissonSampledDpEvent
            from dp_accounting.rdp import RdpAccountant

            accountant = RdpAccountant(self._orders)
            accountant.compose(PoissonSampledDpEvent(self.sampling_rate, GaussianDpEvent(noise_multiplier)))
            self._rdp_of[noise_multiplier] = accountant.rdp
        return self._rdp_of[noise_multiplier]

    def state_dict(self) -> dict[str, Any]:
        return {"noise_multiplier": self.noise_multiplier, "sampling_rate": self.sampling_rate,
                "delta": self.delta, "records": [asdict(r) for r in self._records]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Replays the saved rounds; the settings must be this accountant's."""
        saved = (state["noise_multiplier"], state["sampling_rate"], state["delta"])
        if saved != (self.noise_multiplier, self.sampling_rate, self.delta):
            raise LearningError(f"privacy state was recorded with (sigma, q, delta) = {saved}, "
                                f"not {(self.noise_multiplier, self.sampling_rate, self.delta)}")
        self._rdp, self._records = np.zeros(len(self._orders)), []
        for r in state["records"]:
            self.record_round(received=r["received"], expected=r["calibrated_for"])


@dataclass(frozen=True)
class DPMean:
    """The aggregator under client-level DP: the unweighted mean (see `unweighted_mean`)."""

    name: str = "dp-fedavg"
    min_updates: int = 1

    @property
    def params(self) -> dict[str, float]:
        return {}

    def __call__(self, updates: torch.Tensor, weights: torch.Tensor, *,
                 root_update: torch.Tensor | None = None) -> torch.Tensor:
        return unweighted_mean(updates, weights)
