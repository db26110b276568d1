"""FoolsGold weights: clones fall to 0, distinct identities stay at 1; the cost of identities."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fedstake.errors import ConfigError, LearningError
from fedstake.proof.sybil import attack_stake, clone_weights, cosine_similarities, foolsgold_weights, pardon

seeds = st.integers(0, 2**32 - 1)


def cohort(seed: int, *, honest: int, clones: int, shared: float = 0.0, jitter: float = 1e-3,
           params: int = 200) -> np.ndarray:
    """Honest histories (a shared direction of weight `shared` plus their own data's direction),
    then `clones` copies of one attacker's history, each with `jitter` relative noise."""
    rng = np.random.default_rng(seed)
    own = shared * rng.standard_normal(params) + rng.standard_normal((honest, params))
    goal = rng.standard_normal(params)
    copies = goal + jitter * rng.standard_normal((clones, params))
    return np.vstack([own, copies])


@given(seed=seeds, honest=st.integers(1, 15), clones=st.integers(2, 6), shared=st.floats(0.0, 2.0))
@settings(max_examples=100)
def test_clones_get_about_zero_and_honest_identities_far_more(seed, honest, clones, shared):
    """Even when honest histories share a common direction (cosine up to 0.8 between them).
    Raw FoolsGold is relative, so two honest identities that happen to resemble each other more
    than the rest lose some weight (0.80 at seed 51, 7 honest, shared 1.0; the lowest in 100,000
    draws of this space was 0.49): `clone_weights` is what the protocol uses."""
    weights = foolsgold_weights(cohort(seed, honest=honest, clones=clones, shared=shared))
    assert (weights[honest:] < 0.01).all()
    assert (weights[:honest] > 0.25).all()


@given(seed=seeds, honest=st.integers(1, 15), clones=st.integers(2, 6), shared=st.floats(0.0, 2.0))
@settings(max_examples=100)
def test_clone_weights_cut_only_the_clones(seed, honest, clones, shared):
    weights = clone_weights(cohort(seed, honest=honest, clones=clones, shared=shared))
    assert (weights[honest:] < 0.01).all()
    assert (weights[:honest] == 1.0).all()


def test_clone_weights_keep_honest_identities_that_foolsgold_alone_would_cut():
    histories = cohort(51, honest=7, clones=2, shared=1.0)
    assert foolsgold_weights(histories)[:7].min() < 0.9
    assert clone_weights(histories)[:7].tolist() == [1.0] * 7


@given(seed=seeds, n=st.integers(1, 20), shared=st.floats(0.0, 5.0))
@settings(max_examples=50)
def test_clone_weights_leave_a_cohort_without_clones_alone(seed, n, shared):
    """However strongly the honest histories share the descent."""
    rng = np.random.default_rng(seed)
    histories = shared * rng.standard_normal(100) + rng.standard_normal((n, 100))
    assert (clone_weights(histories) == 1.0).all()


@given(seed=seeds, n=st.integers(1, 20))
@settings(max_examples=50)
def test_distinct_histories_all_get_one(seed, n):
    assert (foolsgold_weights(np.random.default_rng(seed).standard_normal((n, 100))) == 1.0).all()


@given(seed=seeds, honest=st.integers(1, 8), clones=st.integers(2, 4), data=st.data())
@settings(max_examples=60)
def test_weights_follow_the_identities_under_any_order(seed, honest, clones, data):
    histories = cohort(seed, honest=honest, clones=clones, shared=1.0)
    order = np.array(data.draw(st.permutations(range(len(histories)))))
    np.testing.assert_allclose(foolsgold_weights(histories[order]), foolsgold_weights(histories)[order],
                               rtol=0, atol=1e-12)


@given(seed=seeds, scale=st.floats(1e-6, 1e6))
@settings(max_examples=40)
def test_the_size_of_a_history_does_not_matter_only_its_direction(seed, scale):
    histories = cohort(seed, honest=5, clones=3, jitter=0.05, shared=1.0)
    scaled = histories.copy()
    scaled[0] *= scale
    np.testing.assert_allclose(foolsgold_weights(scaled), foolsgold_weights(histories), rtol=0, atol=1e-9)


def test_zero_histories_earn_zero_and_change_no_one_else():
    histories = cohort(0, honest=4, clones=3, jitter=0.05)
    padded = np.vstack([histories, np.zeros((2, histories.shape[1]))])
    weights = foolsgold_weights(padded)
    assert weights[-2:].tolist() == [0.0, 0.0]
    assert weights[:-2].tobytes() == foolsgold_weights(histories).tobytes()
    assert foolsgold_weights(np.zeros((3, 4))).tolist() == [0.0] * 3


def test_edge_cohorts():
    assert foolsgold_weights(np.zeros((0, 4))).shape == (0,)
    assert foolsgold_weights(np.ones((1, 4))).tolist() == [1.0]
    assert foolsgold_weights(np.ones((3, 4))).tolist() == [0.0] * 3, "all clones of each other"


def test_opposite_histories_are_not_clones():
    """Negative similarity counts as none: an attacker undoing an honest client is not its sybil."""
    a = np.random.default_rng(1).standard_normal(50)
    assert foolsgold_weights(np.vstack([a, -a])).tolist() == [1.0, 1.0]
    np.testing.assert_array_equal(cosine_similarities(np.vstack([a, -a])), np.zeros((2, 2)))


def test_pardoning_scales_similarity_to_a_more_sybil_like_identity():
    similar = np.array([[0.0, 0.5, 0.2], [0.5, 0.0, 1.0], [0.2, 1.0, 0.0]])
    # v = (0.5, 1.0, 1.0): row 0 scales its entries by 0.5 / 1.0; rows 1 and 2 keep theirs.
    np.testing.assert_allclose(pardon(similar), [[0.0, 0.25, 0.1], [0.5, 0.0, 1.0], [0.2, 1.0, 0.0]])


def test_an_honest_client_resembling_a_sybil_is_pardoned():
    """Half-way between the honest crowd and a tight clone pair: without pardoning its alpha
    would be 1 - cos(h, goal), about 0.3; pardoned, it keeps most of its weight."""
    rng = np.random.default_rng(3)
    goal = rng.standard_normal(300)
    crowd = rng.standard_normal((6, 300))
    lookalike = goal + 0.9 * rng.standard_normal(300)
    clones = goal + 1e-3 * rng.standard_normal((2, 300))
    weights = foolsgold_weights(np.vstack([crowd, lookalike, clones]))
    assert weights[6] > 0.3 and (weights[7:] < 0.01).all()


@pytest.mark.parametrize("confidence, expected", [(1.0, 0.5), (2.0, 1.0), (0.5, 0.25)])
def test_confidence_scales_the_logit(confidence, expected):
    """alpha = 0.5 of the most distinct identity's alpha sits at logit 0, so the weight is kappa * 0.5."""
    similar_half = np.array([[1.0, 0.0, 0.0], [0.5, np.sqrt(0.75), 0.0], [0.0, 0.0, 1.0]])
    weights = foolsgold_weights(similar_half, confidence=confidence)
    np.testing.assert_allclose(weights[:2], [expected, expected])
    assert weights[2] == 1.0


@pytest.mark.parametrize("confidence", [0.0, -1.0, float("nan")])
def test_confidence_must_be_positive(confidence):
    with pytest.raises(ConfigError, match="proof.foolsgold-confidence"):
        foolsgold_weights(np.ones((2, 2)), confidence=confidence)


@pytest.mark.parametrize("histories", [np.ones(3), np.ones((2, 2, 2)), np.array([[1.0, np.inf]])])
def test_bad_histories_are_learning_errors(histories):
    with pytest.raises(LearningError):
        foolsgold_weights(histories)


@given(n=st.integers(1, 10_000), k=st.integers(0, 10_000), min_stake=st.integers(0, 10**22))
def test_attack_stake_is_min_stake_per_identity(n, k, min_stake):
    k = min(k, n)
    assert attack_stake(n, k / n, min_stake) == k * min_stake


@given(n=st.integers(1, 10_000), f=st.floats(0, 1), g=st.floats(0, 1), min_stake=st.integers(0, 10**6))
def test_attack_stake_grows_with_the_fraction(n, f, g, min_stake):
    low, high = sorted((f, g))
    assert attack_stake(n, low, min_stake) <= attack_stake(n, high, min_stake)
    assert attack_stake(n, high, min_stake) <= (high * n + 1) * min_stake * (1 + 1e-9)


def test_attack_stake_counts_whole_identities():
    assert attack_stake(10, 0.1, 7) == 7, "0.1 (a hair above 1/10 in binary) of 10 is one identity, not two"
    assert attack_stake(33, 1 / 33, 5) == 5
    assert attack_stake(3, 0.5, 1) == 2, "half of three identities needs two"
    assert attack_stake(10, 0.10000001, 1) == 2


@pytest.mark.parametrize("args, key", [((0, 0.5, 1), "task.clients-per-round"), ((10, 1.5, 1), "sybil.fraction"),
                                       ((10, -0.1, 1), "sybil.fraction"), ((10, 0.5, -1), "chain.min-stake")])
def test_attack_stake_rejects_bad_parameters(args, key):
    with pytest.raises(ConfigError, match=key):
        attack_stake(*args)
