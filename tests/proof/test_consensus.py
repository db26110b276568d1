"""Yuma-style validator consensus: the kappa-supported level, clipping, trust and who gets paid."""

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from fedstake.errors import ConfigError, LearningError
from fedstake.proof.consensus import agreement_with, consensus, normalise_rows, prior_levels

seeds = st.integers(0, 2**32 - 1)
kappas = st.sampled_from([0.5, 0.25, 1 / 3, 0.6, 2 / 3, 0.75, 1.0]) | st.floats(0.01, 1.0)


@st.composite
def rounds(draw, max_validators=7, max_trainers=6):
    """A score matrix (with ties and negatives) and positive-total stakes."""
    v = draw(st.integers(1, max_validators))
    n = draw(st.integers(1, max_trainers))
    scores = draw(arrays("float64", (v, n), elements=st.sampled_from([-1.0, 0.0, 0.5, 1.0, 2.0]) | st.floats(0, 10)))
    stakes = draw(arrays("float64", (v,), elements=st.sampled_from([0.0, 1.0, 3.0]) | st.floats(0, 1e6)))
    if stakes.sum() <= 0:
        stakes[0] = 1.0
    return scores, stakes


def honest_world(seed: int, *, validators: int = 5, trainers: int = 20, noise: float = 0.05) -> np.ndarray:
    """Honest validators scoring the same trainers with noise.

    True contributions are log-normal (sigma 0.5: the spread of sample counts
    under a Dirichlet(0.5) partition) with 10% free-riders at zero; each
    validator sees them plus Gaussian noise of `noise` x the mean contribution,
    as scoring on its own held-out set adds sampling noise independent of the
    effect size. Trainer 0 is a free-rider.
    """
    rng = np.random.default_rng(seed)
    truth = rng.lognormal(0.0, 0.5, trainers)
    truth[: max(1, trainers // 10)] = 0.0
    return truth[None, :] + noise * truth.mean() * rng.standard_normal((validators, trainers))


def random_liar(scores: np.ndarray, seed: int) -> np.ndarray:
    lied = scores.copy()
    lied[-1] = np.random.default_rng(seed).uniform(0.0, 1.0, scores.shape[1])
    return lied


def colluding_liar(scores: np.ndarray) -> np.ndarray:
    """The last validator gives free-rider 0 as much as all other trainers together."""
    lied = scores.copy()
    lied[-1, 0] = np.maximum(lied[-1], 0).sum()
    return lied


def relative_shift(moved: np.ndarray, base: np.ndarray) -> float:
    return float(np.linalg.norm(moved - base) / np.linalg.norm(base))


def support(column: np.ndarray, stakes: np.ndarray, level: float) -> Fraction:
    return sum((Fraction(float(s)) for s, w in zip(stakes, column) if w >= level), Fraction(0))


# --- worked examples and boundaries -------------------------------------------------------------


def test_a_worked_example():
    scores = np.array([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0], [3.0, 2.0, 1.0]])
    out = consensus(scores, np.ones(3))
    np.testing.assert_allclose(out.consensus, [1 / 6, 1 / 3, 1 / 2])
    np.testing.assert_allclose(out.clipped[2], [1 / 6, 1 / 3, 1 / 6])
    np.testing.assert_allclose(out.validator_trust, [1, 1, 2 / 3])
    np.testing.assert_allclose(out.validator_agreement, [1, 1, -2 / 3])  # the third ranks them backwards: trust x -1
    np.testing.assert_allclose(out.validator_weights, [1 / 2, 1 / 2, 0])
    np.testing.assert_allclose(out.trainer_weights, np.array([1.5, 3, 3.5]) / 8)


def test_exactly_kappa_of_the_stake_supports_a_level():
    """Two equal halves disagree: "at least kappa" is inclusive, so the higher half's score stands."""
    out = consensus(np.array([[0.2, 0.8], [0.4, 0.6]]), np.array([1.0, 1.0]))
    np.testing.assert_array_equal(out.consensus, [0.4, 0.8])
    np.testing.assert_array_equal(out.validator_trust, [1.0, 1.0])


def test_just_below_kappa_does_not():
    """The first validator's 0.8 is now backed by a hair less than half the stake."""
    out = consensus(np.array([[0.2, 0.8], [0.4, 0.6]]), np.array([1.0 - 2**-40, 1.0]))
    np.testing.assert_array_equal(out.consensus, [0.4, 0.6])


def test_kappa_one_takes_the_lowest_score_of_any_staked_validator():
    scores = np.array([[0.1, 0.9], [0.3, 0.7], [0.5, 0.5]])
    np.testing.assert_allclose(consensus(scores, np.array([1.0, 2.0, 0.0]), kappa=1.0).consensus, [0.1, 0.7])


def test_the_stake_comparison_is_exact_past_float_precision():
    """In floats 2**53 + 1 + 1 == 2**53, so a float cumulative sum would let the big validator alone
    reach kappa = 1; in exact arithmetic the two small ones are needed too."""
    scores = np.array([[0.9, 0.1], [0.1, 0.9], [0.1, 0.9]])
    out = consensus(scores, np.array([2.0**53, 1.0, 1.0]), kappa=1.0)
    np.testing.assert_allclose(out.consensus, [0.1, 0.1])


def test_integer_stakes_in_base_units_are_compared_as_integers():
    """As floats both stakes are 1e22, two equal halves; as integers the first holds the majority."""
    scores = np.array([[0.2, 0.8], [0.4, 0.6]])
    np.testing.assert_array_equal(consensus(scores, [10**22 + 1, 10**22]).consensus, [0.2, 0.8])
    np.testing.assert_array_equal(consensus(scores, [1e22, 1e22]).consensus, [0.4, 0.8])


def test_a_validator_without_stake_moves_nothing():
    scores = np.array([[0.5, 0.5], [0.5, 0.5], [1.0, 0.0]])
    assert consensus(scores, np.array([1.0, 1.0, 0.0])).consensus.tolist() == [0.5, 0.5]


def test_negative_scores_count_as_zero_and_an_all_zero_row_stays_zero():
    np.testing.assert_array_equal(normalise_rows(np.array([[-1.0, 1.0, 3.0], [-2.0, 0.0, 0.0]])),
                                  [[0.0, 0.25, 0.75], [0.0, 0.0, 0.0]])
    out = consensus(np.array([[1.0, 1.0], [-1.0, 0.0]]), np.array([1.0, 1.0]))
    np.testing.assert_array_equal(out.validator_trust, [1.0, 0.0])
    np.testing.assert_array_equal(out.validator_weights, [1.0, 0.0])


def test_no_trainers_and_no_positive_scores_give_zeros():
    empty = consensus(np.zeros((2, 0)), np.ones(2))
    assert empty.consensus.shape == (0,) and empty.validator_weights.tolist() == [0.0, 0.0]
    silent = consensus(np.zeros((2, 3)), np.ones(2))
    assert silent.trainer_weights.tolist() == [0.0] * 3 and silent.validator_weights.tolist() == [0.0, 0.0]


@pytest.mark.parametrize("kappa", [0.0, -0.5, 1.0001, float("nan")])
def test_kappa_outside_zero_one_is_a_config_error(kappa):
    with pytest.raises(ConfigError, match="proof.kappa"):
        consensus(np.ones((2, 2)), np.ones(2), kappa=kappa)


@pytest.mark.parametrize("scores, stakes, problem", [
    (np.ones(3), np.ones(3), "validators x trainers"),
    (np.ones((0, 3)), np.ones(0), "validators x trainers"),
    (np.ones((2, 3)), np.ones(3), "shape"),
    (np.ones((2, 3)), np.array([1.0, -1.0]), "non-negative"),
    (np.ones((2, 3)), np.zeros(2), "positive total"),
    (np.array([[1.0, np.nan]]), np.ones(1), "finite"),
    (np.ones((1, 2)), np.array([np.inf]), "finite"),
])
def test_bad_inputs_are_learning_errors(scores, stakes, problem):
    with pytest.raises(LearningError, match=problem):
        consensus(scores, stakes)


# --- properties ---------------------------------------------------------------------------------


@given(rounds(), kappas)
@settings(max_examples=150)
def test_the_consensus_is_the_largest_level_a_kappa_share_supports(case, kappa):
    scores, stakes = case
    out = consensus(scores, stakes, kappa=kappa)
    needed = Fraction(kappa) * sum((Fraction(float(s)) for s in stakes), Fraction(0))
    for column, level in zip(normalise_rows(scores).T, out.consensus):
        assert support(column, stakes, level) >= needed
        higher = column[column > level]
        assert higher.size == 0 or support(column, stakes, higher.min()) < needed


@given(rounds(), kappas, st.data())
@settings(max_examples=100)
def test_consensus_is_equivariant_under_relabelling(case, kappa, data):
    scores, stakes = case
    rows = np.array(data.draw(st.permutations(range(scores.shape[0]))))
    cols = np.array(data.draw(st.permutations(range(scores.shape[1]))))
    base = consensus(scores, stakes, kappa=kappa)
    moved = consensus(scores[rows][:, cols], stakes[rows], kappa=kappa)
    assert moved.consensus.tobytes() == base.consensus[cols].tobytes()
    assert moved.clipped.tobytes() == base.clipped[rows][:, cols].tobytes()
    assert moved.validator_trust.tobytes() == base.validator_trust[rows].tobytes()
    assert moved.trainer_weights.tobytes() == base.trainer_weights[cols].tobytes()
    assert moved.validator_weights.tobytes() == base.validator_weights[rows].tobytes()


@given(rounds(), kappas, st.integers(0, 6), st.floats(0.0, 0.4))
@settings(max_examples=100)
def test_a_validator_with_enough_stake_dictates(case, kappa, which, excess):
    """More than max(kappa, 1 - kappa) of the stake: its level is supported, and no other is."""
    scores, stakes = case
    which %= len(stakes)
    bar = max(kappa, 1 - kappa)
    share = bar + excess * (1 - bar)
    stakes = stakes.copy()
    stakes[which] = 1.0 if share >= 1 else np.delete(stakes, which).sum() * share / (1 - share) * (1 + 1e-9) + 1e-300
    if share >= 1:
        stakes[np.arange(len(stakes)) != which] = 0.0
    exact = [Fraction(float(s)) for s in stakes]
    assume(exact[which] > max(Fraction(kappa), 1 - Fraction(kappa)) * sum(exact))
    out = consensus(scores, stakes, kappa=kappa)
    np.testing.assert_array_equal(out.consensus, normalise_rows(scores)[which])


@given(rounds(), kappas)
@settings(max_examples=100)
def test_clipping_trust_and_weights_stay_in_range(case, kappa):
    scores, stakes = case
    out = consensus(scores, stakes, kappa=kappa)
    normal = normalise_rows(scores)
    assert (out.clipped <= normal).all() and (out.clipped <= out.consensus).all()
    assert ((0 <= out.validator_trust) & (out.validator_trust <= 1)).all()
    for weights in (out.trainer_weights, out.validator_weights):
        assert (weights >= 0).all() and (weights.sum() == 0 or abs(weights.sum() - 1) < 1e-12)


@given(rounds(), kappas, st.integers(0, 40))
@settings(max_examples=60)
def test_scaling_every_stake_by_a_power_of_two_changes_nothing(case, kappa, power):
    scores, stakes = case
    base, scaled = consensus(scores, stakes, kappa=kappa), consensus(scores, stakes * 2.0**power, kappa=kappa)
    assert base.consensus.tobytes() == scaled.consensus.tobytes()
    assert base.validator_weights.tobytes() == scaled.validator_weights.tobytes()


# --- liars among honest validators ---------------------------------------------------------------


@given(seed=seeds)
@settings(max_examples=100)
def test_one_liar_among_five_moves_the_consensus_by_less_than_five_percent(seed):
    """At 5% honest noise the measured shift is about 2% (median) and 3.7% (worst of 300 seeds)."""
    honest = honest_world(seed)
    base = consensus(honest, np.ones(5)).consensus
    for lied in (random_liar(honest, seed), colluding_liar(honest)):
        assert relative_shift(consensus(lied, np.ones(5)).consensus, base) < 0.05


@given(seed=seeds, noise=st.floats(0.0, 0.2))
@settings(max_examples=100)
def test_random_and_colluding_validators_earn_less_than_honest_ones(seed, noise):
    honest = honest_world(seed, noise=noise)
    for lied in (random_liar(honest, seed), colluding_liar(honest)):
        weights = consensus(lied, np.ones(5)).validator_weights
        assert weights[-1] < weights[:-1].min()


@given(seed=seeds)
@settings(max_examples=50)
def test_a_colluding_validator_cannot_lift_its_free_rider(seed):
    out = consensus(colluding_liar(honest_world(seed)), np.ones(5))
    assert out.trainer_weights[0] < 0.01


@pytest.mark.slow
def test_liar_shift_grows_with_honest_noise(capsys):
    """The table in the report: median / worst relative shift over 300 worlds per noise level, next to the
    shift from replacing one honest validator by another honest one (the noise floor)."""
    rows = []
    for noise in (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0):
        shifts = np.array([_shifts(seed, noise) for seed in range(300)])
        rows.append((noise, np.median(shifts, axis=0), shifts.max(axis=0)))
    with capsys.disabled():
        print("\nnoise  median(swap random collude)  max(swap random collude)")
        for noise, median, worst in rows:
            print(f"{noise:5.2f}  {np.round(median, 4)}  {np.round(worst, 4)}")
    assert all(worst[1:].max() < 0.05 for noise, _, worst in rows if noise <= 0.05)
    assert rows[-1][1][1] > 0.1


def _shifts(seed: int, noise: float) -> tuple[float, ...]:
    six = honest_world(seed, validators=6, noise=noise)
    honest = six[:5]
    base = consensus(honest, np.ones(5)).consensus
    return tuple(relative_shift(consensus(m, np.ones(5)).consensus, base)
                 for m in (six[[0, 1, 2, 3, 5]], random_liar(honest, seed), colluding_liar(honest)))


def _digits_loo_scores(seed: int, *, validators: int, per_validator: int, trainers: int = 20) -> np.ndarray:
    """Leave-one-out validation-loss gain of each trainer's update after one FedAvg round on digits
    (MLP, Dirichlet(0.5) split), each validator scoring on its own disjoint held-out samples."""
    import torch

    from fedstake.learn.cohort import train_cohort
    from fedstake.learn.data import load_digits_dataset
    from fedstake.learn.models import ParamSpec, build_model, initial_parameters
    from fedstake.learn.partition import partition_dirichlet
    from fedstake.learn.train import LocalTraining, evaluate

    data = load_digits_dataset(seed=seed, test=0.05, val=0.7)
    module = build_model("mlp", data.num_features, data.num_classes)
    spec, start = ParamSpec.of(module), initial_parameters(module, seed=seed)
    parts = partition_dirichlet(data.y_train.numpy(), trainers, alpha=0.5, seed=seed)
    cohort = [(data.x_train[p], data.y_train[p]) for p in parts]
    updates = train_cohort(module, spec, start, cohort, LocalTraining(epochs=2, batch_size=16, learning_rate=0.1),
                           seeds=range(trainers)) - start
    share = torch.tensor([len(p) for p in parts], dtype=torch.float32)
    models = [start + (share / share.sum()) @ updates]
    for j in range(trainers):
        without = share.clone()
        without[j] = 0
        models.append(start + (without / without.sum()) @ updates)
    order = torch.randperm(len(data.y_val), generator=torch.Generator().manual_seed(seed))
    scores = np.empty((validators, trainers))
    for i in range(validators):
        mine = order[i * per_validator : (i + 1) * per_validator]
        losses = [evaluate(module, spec, m, data.x_val[mine], data.y_val[mine])[1] for m in models]
        scores[i] = np.array(losses[1:]) - losses[0]
    return scores


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_on_digits_honest_validators_disagree_more_than_the_five_percent_bound_allows(seed, capsys):
    """With 100 held-out samples each, honest validators' leave-one-out scores differ by about their own
    size: replacing one honest validator by another already moves the consensus far beyond 5%, so the
    bound above is a property of low-noise scores, not of the consensus."""
    six = _digits_loo_scores(seed, validators=6, per_validator=100)
    normal = normalise_rows(six)
    spread = float(normal.std(axis=0, ddof=1).mean() / normal.mean())
    honest = six[:5]
    base = consensus(honest, np.ones(5)).consensus
    swap, rnd, col = (relative_shift(consensus(m, np.ones(5)).consensus, base)
                      for m in (six[[0, 1, 2, 3, 5]], random_liar(honest, seed), colluding_liar(honest)))
    with capsys.disabled():
        print(f"\ndigits seed {seed}: honest spread {spread:.2f}; shift by honest swap {swap:.3f}, "
              f"random liar {rnd:.3f}, colluding liar {col:.3f}")
    assert spread > 0.5 and swap > 0.05


def test_agreement_is_the_signed_correlation_with_the_consensus():
    """A flat row ranks no one (0); a row ranking trainers as the consensus does agrees fully
    whatever its level, one ranking them backwards fully negatively; where the consensus is flat
    there is nothing to rank and trust decides."""
    target = np.array([0.1, 0.3, 0.6])
    rows = np.array([(target + 1 / 3) / 2, [1 / 3, 1 / 3, 1 / 3], 2 / 3 - target])  # the first: another level; the last: mirrored
    np.testing.assert_allclose(agreement_with(rows, target, fallback=np.full(3, 0.5)), [1.0, 0.0, -1.0], atol=1e-12)
    flat = agreement_with(rows, np.full(3, 1 / 3), fallback=np.array([0.9, 1.0, 0.8]))
    np.testing.assert_array_equal(flat, [0.9, 1.0, 0.8])


# --- agreement asks for news against the prior (lazy copying, issue 12) -----------------------------


def test_a_validator_reporting_the_prior_agrees_with_no_news():
    """Last round's consensus reported as this round's scores departs from the prior by nothing:
    its agreement is 0 however well that prior ranks this round's trainers, while validators whose
    rows moved with this round's consensus keep theirs."""
    prior = np.array([0.1, 0.2, 0.3, 0.4])
    honest = np.array([[0.1, 0.25, 0.25, 0.4], [0.12, 0.24, 0.26, 0.38], [0.08, 0.26, 0.24, 0.42]])
    scores = np.vstack([honest, prior])
    without = consensus(scores, np.ones(4))
    out = consensus(scores, np.ones(4), prior=prior)
    assert without.validator_agreement[3] > 0.8  # ranking alone: the copy ranks like the consensus
    assert out.validator_agreement[3] == pytest.approx(0.0, abs=1e-12)
    assert all(out.validator_agreement[:3] > 0.5)
    assert out.validator_weights[3] == 0


def test_without_a_prior_news_is_the_ranking():
    """No prior is a flat one, and against a flat prior a departure ranks as the row itself."""
    rng = np.random.default_rng(3)
    scores = rng.uniform(0, 1, (5, 7))
    flat = consensus(scores, np.ones(5), prior=np.full(7, 2.0))
    none = consensus(scores, np.ones(5))
    np.testing.assert_allclose(flat.validator_agreement, none.validator_agreement, atol=1e-12)


def test_a_prior_of_the_wrong_length_is_an_error():
    with pytest.raises(LearningError, match="prior has 2 levels for 3 trainers"):
        consensus(np.ones((2, 3)), np.ones(2), prior=np.ones(2))


def test_prior_levels_fill_a_new_trainer_with_the_mean_a_copier_would_report():
    np.testing.assert_allclose(prior_levels({"a": 0.2, "b": 0.4}, ["b", "c", "a"]), [0.4, 0.3, 0.2])
    assert prior_levels({}, ["a"]) is None
