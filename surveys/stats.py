"""The numbers managers may trust: rates with Wilson intervals and mean scores."""

from __future__ import annotations

import math
from dataclasses import dataclass

#: Two-sided 95 % normal quantile.
Z95 = 1.959964


def wilson_interval(positives: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    """Return the Wilson score interval for positives out of n, or None when n is 0."""
    if n <= 0:
        return None
    if not 0 <= positives <= n:
        raise ValueError("positives must lie between 0 and n")
    p = positives / n
    z2 = z * z
    denominator = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    half_width = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denominator
    return max(0.0, centre - half_width), min(1.0, centre + half_width)


@dataclass(frozen=True)
class Rate:
    """A satisfaction rate with its sample size; the figures are None below the minimum n."""

    n: int
    positives: int
    rate: float | None
    ci_low: float | None
    ci_high: float | None

    @property
    def is_shown(self) -> bool:
        return self.rate is not None

    def as_dict(self) -> dict:
        return {"n": self.n, "rate": self.rate, "ci_low": self.ci_low, "ci_high": self.ci_high}


def satisfaction_rate(positives: int, n: int, min_n: int) -> Rate:
    """Return positives/n with its 95 % interval, hiding the figures when n < min_n."""
    if n < max(min_n, 1):
        return Rate(n, positives, None, None, None)
    low, high = wilson_interval(positives, n)
    return Rate(n, positives, round(positives / n, 4), round(low, 4), round(high, 4))


def choice_score(position: int, levels: int) -> float | None:
    """Return the score of the choice at ``position`` (0 = best) of a scale of ``levels``.

    The best choice scores 100, the worst 0, the others evenly spaced between: the one formula
    behind every mean score (PRODUCT.md, "Mean score").
    """
    if levels < 2 or not 0 <= position < levels:
        return None
    return (levels - 1 - position) / (levels - 1) * 100


def mean_score(score_counts: list[tuple[float, int]]) -> float | None:
    """Return the mean of scores weighted by their counts, or None without answers."""
    total = sum(count for _, count in score_counts)
    if total == 0:
        return None
    return round(sum(score * count for score, count in score_counts) / total, 2)


#: The prior weight of a ranking's shrunken rate (PRODUCT.md, "Rankings").
RANKING_PRIOR_WEIGHT = 20


def shrunken_rate(
    positives: int, n: int, prior_rate: float, m: int = RANKING_PRIOR_WEIGHT
) -> float:
    """Return (positives + m·C) / (n + m): an office with few responses stays near its unit's
    rate C instead of topping or trailing a ranking by chance."""
    return (positives + m * prior_rate) / (n + m)


@dataclass(frozen=True)
class Change:
    """A rate against the same-length period before it, and whether the difference is real."""

    #: Current rate − previous rate, or None when either is not shown.
    difference: float | None
    #: The two-proportion z statistic (pooled standard error), or None.
    z: float | None

    @property
    def is_significant(self) -> bool:
        """Whether a two-sided two-proportion test rejects "no change" at 95 %."""
        return self.z is not None and abs(self.z) > Z95

    @property
    def direction(self) -> int:
        """1 a real rise, -1 a real fall, 0 no change the data can show."""
        if not self.is_significant or self.difference is None:
            return 0
        return 1 if self.difference > 0 else -1

    def as_dict(self) -> dict:
        return {
            "difference": None if self.difference is None else round(self.difference, 4),
            "z": None if self.z is None else round(self.z, 3),
            "significant": self.is_significant,
        }


def two_proportion_change(current: Rate, previous: Rate) -> Change:
    """Compare two rates with a two-proportion z test; only shown rates are compared."""
    if not current.is_shown or not previous.is_shown:
        return Change(None, None)
    p1, n1 = current.positives / current.n, current.n
    p2, n2 = previous.positives / previous.n, previous.n
    pooled = (current.positives + previous.positives) / (n1 + n2)
    variance = pooled * (1 - pooled) * (1 / n1 + 1 / n2)
    if variance == 0:
        return Change(p1 - p2, 0.0)
    return Change(p1 - p2, (p1 - p2) / math.sqrt(variance))
