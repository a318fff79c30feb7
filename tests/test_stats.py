"""Statistics against values computed by hand from PRODUCT.md's formulas."""

import math

import pytest

from surveys.stats import Z95, mean_score, satisfaction_rate, wilson_interval


def hand_wilson(k, n):
    p = k / n
    z = 1.959964
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def test_z_is_the_documented_quantile():
    assert Z95 == 1.959964


def test_n_zero_has_no_interval():
    assert wilson_interval(0, 0) is None
    rate = satisfaction_rate(0, 0, min_n=1)
    assert (rate.n, rate.rate, rate.ci_low, rate.ci_high) == (0, None, None, None)


def test_n_one_positive():
    # p = 1, n = 1: centre = (1 + z²/2)/(1 + z²) = 0.6066, half = (z²/2)/(1+z²) = 0.3934
    low, high = wilson_interval(1, 1)
    assert low == pytest.approx(0.206549, abs=1e-6)
    assert high == pytest.approx(1.0)


def test_n_one_negative():
    low, high = wilson_interval(0, 1)
    assert low == pytest.approx(0.0)
    assert high == pytest.approx(0.793451, abs=1e-6)


def test_all_negative_and_all_positive_at_n_20():
    low, high = wilson_interval(0, 20)
    assert low == pytest.approx(0.0)
    assert high == pytest.approx(0.161125, abs=1e-6)
    low, high = wilson_interval(20, 20)
    assert low == pytest.approx(0.838875, abs=1e-6)
    assert high == pytest.approx(1.0)


@pytest.mark.parametrize("k,n", [(8, 10), (45, 50), (1, 3), (730, 1000)])
def test_matches_the_formula(k, n):
    assert wilson_interval(k, n) == pytest.approx(hand_wilson(k, n), abs=1e-12)


def test_eighty_percent_of_ten_by_hand():
    # p = 0.8, n = 10, z² = 3.841459: centre = 0.992073/1.384146 = 0.716740,
    # half = 1.959964·√(0.016 + 0.009604)/1.384146 = 0.226573
    low, high = wilson_interval(8, 10)
    assert low == pytest.approx(0.490162, abs=1e-5)
    assert high == pytest.approx(0.943318, abs=1e-5)


def test_rate_hidden_below_minimum_n():
    hidden = satisfaction_rate(9, 9, min_n=10)
    assert hidden.n == 9 and hidden.rate is None and not hidden.is_shown
    shown = satisfaction_rate(9, 10, min_n=10)
    assert shown.rate == 0.9 and shown.is_shown
    assert shown.ci_low == pytest.approx(round(hand_wilson(9, 10)[0], 4))


def test_positives_outside_range_is_an_error():
    with pytest.raises(ValueError):
        wilson_interval(3, 2)


def test_mean_score():
    # Three-level scale: best 100, middle 50, worst 0.
    assert mean_score([(100, 2), (50, 1), (0, 1)]) == 62.5
    assert mean_score([]) is None
    assert mean_score([(100, 0)]) is None


def test_two_proportion_change_flags_only_real_changes():
    from surveys.stats import satisfaction_rate, two_proportion_change

    # 80 % of 400 against 70 % of 400: z ≈ 3.27, a real rise.
    real = two_proportion_change(satisfaction_rate(320, 400, 10), satisfaction_rate(280, 400, 10))
    assert real.is_significant and real.direction == 1
    assert real.z == pytest.approx(0.1 / math.sqrt(0.75 * 0.25 * 2 / 400))
    # 80 % of 20 against 70 % of 20: the same difference, but z ≈ 0.73 — not a change.
    small = two_proportion_change(satisfaction_rate(16, 20, 10), satisfaction_rate(14, 20, 10))
    assert not small.is_significant and small.direction == 0
    assert small.difference == pytest.approx(0.1)
    # Below the minimum there is nothing to compare.
    hidden = two_proportion_change(satisfaction_rate(5, 5, 10), satisfaction_rate(300, 400, 10))
    assert hidden.difference is None and not hidden.is_significant


def test_shrunken_rate_pulls_small_offices_towards_their_unit():
    from surveys.stats import shrunken_rate

    # 10 of 10 with a unit at 80 %: (10 + 20·0.8) / 30.
    assert shrunken_rate(10, 10, 0.8) == pytest.approx(26 / 30)
    # 950 of 1000 barely moves.
    assert shrunken_rate(950, 1000, 0.8) == pytest.approx((950 + 16) / 1020)
