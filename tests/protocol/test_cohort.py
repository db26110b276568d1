import math
from collections import Counter
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from fedstake.protocol.cohort import integer_root, select_cohort, selection_weight, stake_power

SEED = b"\x42" * 32
STAKES = {f"0x{i:040x}": 10 for i in range(20)}


@given(st.binary(min_size=32, max_size=32), st.integers(1, 25))
def test_cohort_is_distinct_and_of_the_asked_size(seed, size):
    cohort = select_cohort(seed, STAKES, size)
    assert len(cohort) == min(size, len(STAKES)) == len(set(cohort))
    assert set(cohort) <= set(STAKES)


def test_cohort_depends_on_seed_not_on_listing_order():
    reversed_stakes = dict(reversed(list(STAKES.items())))
    assert select_cohort(SEED, STAKES, 5) == select_cohort(SEED, reversed_stakes, 5)
    assert select_cohort(SEED, STAKES, 5) != select_cohort(b"\x43" * 32, STAKES, 5)


def test_zero_stake_is_never_selected():
    stakes = {**STAKES, "0x" + "ff" * 20: 0}
    assert all("0x" + "ff" * 20 not in select_cohort(bytes([i]) * 32, stakes, 19) for i in range(20))


def test_more_stake_is_selected_more_often():
    stakes = {"0xrich": 1000, **{f"0xpoor{i}": 10 for i in range(9)}}
    counts = Counter(a for i in range(200) for a in select_cohort(i.to_bytes(32, "big"), stakes, 2))
    assert counts["0xrich"] > 150 and counts["0xpoor0"] < 80


TOKEN = 10**18


@given(st.integers(0, 10**60), st.integers(1, 100))
def test_integer_root_is_the_floor_of_the_real_root(value, n):
    root = integer_root(value, n)
    assert root ** n <= value < (root + 1) ** n


@given(st.integers(1, 10**30), st.integers(1, 100).flatmap(lambda d: st.integers(1, d).map(lambda n: Fraction(n, d))))  # no filter: under load a filtered strategy fails the health check
def test_stake_power_is_exact_and_never_above_the_stake(stake, exponent):
    power = stake_power(stake, exponent)
    assert power ** exponent.denominator <= stake ** exponent.numerator < (power + 1) ** exponent.denominator
    assert 1 <= power <= stake


@given(st.integers(1, 10**30), st.integers(1, 2**20))
def test_the_default_exponent_keeps_the_linear_weight_bytes(stake, reputation):
    linear = float(stake) * (1.0 + math.log2(reputation))  # the weight before the exponent existed
    assert selection_weight(stake, reputation) == linear == selection_weight(stake, reputation, exponent=Fraction(1))


def test_a_square_root_draw_weighs_four_times_the_stake_twice():
    assert selection_weight(400 * TOKEN, 1, exponent=Fraction(1, 2)) == 2 * selection_weight(100 * TOKEN, 1,
                                                                                               exponent=Fraction(1, 2))
    assert selection_weight(0, 1, exponent=Fraction(1, 2)) == 0.0 == selection_weight(5, 0, exponent=Fraction(1, 2))


def test_sub_linear_stake_draws_a_large_holder_less_often():
    stakes = {"0xrich": 1000 * TOKEN, **{f"0xpoor{i}": 10 * TOKEN for i in range(9)}}

    def rich_count(exponent: Fraction) -> int:
        weights = {a: selection_weight(s, 1, exponent=exponent) for a, s in stakes.items()}
        return sum("0xrich" in select_cohort(i.to_bytes(32, "big"), weights, 2) for i in range(300))

    linear, root = rich_count(Fraction(1)), rich_count(Fraction(1, 2))
    # linear: 1000 of 1090, in about 99% of two-trainer cohorts; square root: 10 of 19, in about 79%
    assert linear > 290 and 200 < root < 265
