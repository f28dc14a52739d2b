# ruff: noqa: RUF003 - reasons and formulas use × → − as DESIGN.md writes them
"""Step 6: one line split among its maintainers."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from fractions import Fraction

from service.allocation.policy import Number, as_fraction, describe


def split_among_maintainers(
    amount: int,
    shares: Mapping[str, Number | None] | Iterable[str],
    granularity: int = 1,
) -> dict[str, int]:
    """Split one line among its maintainers, exactly: ``{login: minor units}``.

    ``shares`` maps logins to the percentages they agreed (any non-negative numbers; they
    are normalized by their total, so 50/50 and 1/1 mean the same); a plain list of
    logins, or all values None, means equal shares. Amounts are multiples of
    ``granularity`` by largest remainder, ties to the earlier login, and sum to
    ``amount``. The result is ordered by login.
    """
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
        raise ValueError(f"amount must be minor units ≥ 0, got {describe(amount)}")
    if isinstance(granularity, bool) or not isinstance(granularity, int) or granularity < 1:
        raise ValueError(f"granularity must be an integer ≥ 1, got {describe(granularity)}")
    if amount % granularity:
        raise ValueError(f"amount {amount} is not a multiple of the granularity {granularity}")
    pairs = (
        list(shares.items()) if isinstance(shares, Mapping) else [(login, None) for login in shares]
    )
    if not pairs:
        raise ValueError("no maintainers to split among")
    logins = [login for login, _ in pairs]
    for login in logins:
        if not isinstance(login, str) or not login.strip():
            raise ValueError(
                f"maintainer login: expected a non-empty string, got {describe(login)}"
            )
    if len({login.casefold() for login in logins}) != len(logins):
        raise ValueError("a maintainer is listed twice (logins are case-insensitive)")
    given = [value for _, value in pairs if value is not None]
    if not given:
        weights = [Fraction(1)] * len(pairs)
    elif len(given) != len(pairs):
        raise ValueError("give a share for every maintainer, or for none (equal split)")
    else:
        weights = []
        for login, value in pairs:
            weight = as_fraction(value, f"shares[{login}]")
            if weight < 0:
                raise ValueError(f"share of {login} must be ≥ 0, got {describe(value)}")
            weights.append(weight)
    whole = sum(weights)
    if whole <= 0:
        raise ValueError("the shares add up to 0")
    units = amount // granularity
    quotas = [units * weight / whole for weight in weights]
    floors = [q.numerator // q.denominator for q in quotas]
    order = sorted(range(len(pairs)), key=lambda i: (-(quotas[i] - floors[i]), logins[i]))
    for i in order[: units - sum(floors)]:
        floors[i] += 1
    return {
        logins[i]: floors[i] * granularity
        for i in sorted(range(len(pairs)), key=lambda i: logins[i])
    }
