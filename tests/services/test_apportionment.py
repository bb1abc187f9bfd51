"""Apportionment arithmetic (largest remainder) and the fee rounding rule, exactly."""
from fractions import Fraction

import pytest
from hypothesis import given, strategies as st

from backend.services.apportionment import largest_remainder, monthly_fee, split

weights = st.lists(st.integers(min_value=0, max_value=10**7), min_size=1, max_size=300).filter(any)
totals = st.integers(min_value=0, max_value=10**11)


@given(totals, weights)
def test_shares_sum_to_the_total_and_each_is_within_one_fen(total, areas):
    shares = largest_remainder(total, areas)
    whole = sum(areas)
    assert sum(shares) == total
    assert all(isinstance(s, int) and s >= 0 for s in shares)
    for share, area in zip(shares, areas):
        exact = Fraction(total * area, whole)
        assert abs(share - exact) < 1
        assert share in (exact.numerator // exact.denominator, -(-exact.numerator // exact.denominator))


@given(totals, st.integers(min_value=1, max_value=500))
def test_equal_split_differs_by_at_most_one_fen_and_extra_fen_go_first(total, parts):
    shares = split(total, "equal", [1] * parts)
    assert sum(shares) == total and max(shares) - min(shares) <= 1
    assert shares == sorted(shares, reverse=True)


@given(totals, weights)
def test_a_larger_area_never_pays_less(total, areas):
    shares = largest_remainder(total, areas)
    for (a, sa) in zip(areas, shares):
        for (b, sb) in zip(areas, shares):
            if a > b:
                assert sa >= sb


def test_largest_remainders_get_the_extra_fen():
    # 100 over 3:3:4 → 30, 30, 40 exactly; 101 → exact 30.3, 30.3, 40.4: the extra fen to the largest remainder.
    assert largest_remainder(100, [3, 3, 4]) == [30, 30, 40]
    assert largest_remainder(101, [3, 3, 4]) == [30, 30, 41]
    # 10 over 1:1:1 → 3⅓ each: the first in the given (registry) order wins the tie.
    assert largest_remainder(10, [1, 1, 1]) == [4, 3, 3]
    assert largest_remainder(0, [5, 7]) == [0, 0]


def test_refuses_what_cannot_be_split():
    for total, areas in ((10, []), (10, [0, 0]), (-1, [1]), (10, [1, -1])):
        with pytest.raises(ValueError):
            largest_remainder(total, areas)
    with pytest.raises(ValueError):
        split(10, "metered", [1])


def test_monthly_fee_rounds_half_up_to_the_fen():
    assert monthly_fee(8950, 235) == 21033  # 21032.5 → 21033
    assert monthly_fee(8949, 235) == 21030  # 21030.15 → 21030
    assert monthly_fee(14316, 149) == 21331  # 21330.84 → 21331
    assert monthly_fee(100, 1) == 1 and monthly_fee(49, 1) == 0 and monthly_fee(50, 1) == 1


@given(st.integers(min_value=0, max_value=10**9), st.integers(min_value=0, max_value=10**6))
def test_monthly_fee_is_the_exact_value_rounded_half_up(area, price):
    exact = Fraction(area * price, 100)
    fee = monthly_fee(area, price)
    assert fee - Fraction(1, 2) <= exact < fee + Fraction(1, 2)
