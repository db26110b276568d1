from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fedstake.econ.concentration import HALF, THIRD, concentration, gini, hhi, nakamoto
from fedstake.errors import ProtocolError

holdings = st.lists(st.integers(0, 10**24), min_size=1, max_size=40)
positive = holdings.filter(lambda v: sum(v) > 0)


@pytest.mark.parametrize("values", [[], [0], [0, 0, 0]])
def test_nothing_held_is_defined_as_zero_everywhere(values):
    assert concentration(values).to_json() == {"nakamoto_33": 0, "nakamoto_50": 0, "gini": 0.0, "hhi": 0.0}


@pytest.mark.parametrize("n", [1, 2, 7])
def test_one_holder_with_everything(n):
    c = concentration([0] * (n - 1) + [5])
    assert (c.nakamoto_33, c.nakamoto_50, c.hhi) == (1, 1, 1.0)
    assert c.gini == pytest.approx(1 - 1 / n)


def test_a_share_exactly_on_the_threshold_does_not_count_as_more():
    assert nakamoto([1, 1, 1], THIRD) == 2  # a third is not more than a third
    assert nakamoto([1, 1], HALF) == 2
    assert nakamoto([1, 1, 1, 1], THIRD) == 2
    assert nakamoto([1, 1, 1, 1], HALF) == 3
    assert nakamoto([10**22 + 1, 10**22, 10**22], THIRD) == 1  # one base unit over, beyond float precision


def test_ties_equal_holdings():
    c = concentration([3] * 6)
    assert (c.nakamoto_33, c.nakamoto_50, c.gini, c.hhi) == (3, 4, 0.0, pytest.approx(1 / 6))


def test_known_values():
    assert gini([1, 2, 3, 4]) == pytest.approx(0.25)
    assert hhi([1, 1, 2]) == pytest.approx(0.375)
    assert nakamoto([6, 2, 1, 1], HALF) == 1 and nakamoto([6, 2, 1, 1], Fraction(61, 100)) == 2


def test_negative_amounts_and_bad_thresholds_are_refused():
    with pytest.raises(ProtocolError, match="negative"):
        concentration([1, -1])
    with pytest.raises(ProtocolError, match="threshold"):
        nakamoto([1], Fraction(1))


@given(positive)
def test_nakamoto_is_the_fewest_top_holders_over_the_threshold(values):
    ranked, total = sorted(values, reverse=True), sum(values)
    for threshold in (THIRD, HALF):
        n = nakamoto(values, threshold)
        assert 1 <= n <= len(values)
        assert sum(ranked[:n]) > threshold * total >= sum(ranked[:n - 1])
    assert nakamoto(values, THIRD) <= nakamoto(values, HALF)


@given(positive, st.integers(1, 1000), st.randoms(use_true_random=False))
def test_every_number_ignores_order_and_scale(values, scale, rng):
    shuffled = list(values)
    rng.shuffle(shuffled)
    c = concentration(values)
    assert concentration(shuffled) == c
    scaled = concentration([v * scale for v in values])
    assert (scaled.nakamoto_33, scaled.nakamoto_50) == (c.nakamoto_33, c.nakamoto_50)
    assert scaled.gini == pytest.approx(c.gini) and scaled.hhi == pytest.approx(c.hhi)


@given(positive)
def test_gini_and_hhi_stay_in_their_ranges_and_meet_equality_at_the_bottom(values):
    n, equal = len(values), len(set(values)) == 1
    g, h = gini(values), hhi(values)
    assert -1e-12 <= g <= 1 - 1 / n + 1e-12
    assert 1 / n - 1e-12 <= h <= 1 + 1e-12
    assert (g == 0) == equal
    assert (h == pytest.approx(1 / n)) == equal or n == 1


@given(positive, st.floats(0, 1e9, allow_nan=False))
def test_floats_are_taken_exactly_too(values, extra):
    c = concentration([float(v) for v in values] + [extra])
    assert 1 <= c.nakamoto_50 <= len(values) + 1
