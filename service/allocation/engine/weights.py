# ruff: noqa: RUF002, RUF003 - reasons and formulas use × → − as DESIGN.md writes them
"""Step 2, weights: Σ over products of decay^(depth−1) × risk multiplier × boost."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction

from service.allocation.engine.model import (
    NEUTRAL_RISK,
    RISK_MULTIPLIER_FLOOR,
    Candidate,
    ProductUse,
)
from service.allocation.policy import Policy
from service.numbers import Number, as_fraction


def risk_multiplier(risk: Number | None, alpha: Number = 1) -> Fraction:
    """``1 + α·(risk/100 − 0.5)``, unknown risk = 50, floored at RISK_MULTIPLIER_FLOOR."""
    r = NEUTRAL_RISK if risk is None else as_fraction(risk, "risk")
    value = 1 + as_fraction(alpha, "risk_alpha") * (r / 100 - Fraction(1, 2))
    return max(value, RISK_MULTIPLIER_FLOOR)


def merged_uses(uses: Iterable[ProductUse]) -> list[tuple[str, int | None]]:
    """One entry per product at its shallowest known depth; ordered for reading."""
    best: dict[str, int | None] = {}
    for use in uses:
        if use.product not in best:
            best[use.product] = use.depth
        elif use.depth is not None:
            current = best[use.product]
            best[use.product] = use.depth if current is None else min(current, use.depth)
    # Shallowest first, unknown depths last, then by product: sorted as plain tuples.
    ordered = sorted([(depth is None, depth or 0, product) for product, depth in best.items()])
    return [(product, None if unknown else depth) for unknown, depth, product in ordered]


def project_weight(candidate: Candidate, policy: Policy | None = None) -> Fraction:
    """The exact weight of one candidate under ``policy`` (DESIGN step 2)."""
    policy = policy or Policy()
    if candidate.dependence is not None:
        total = Fraction(candidate.dependence)
    else:
        total = sum(
            (
                policy.decay ** ((depth or policy.unknown_depth) - 1)
                for _, depth in merged_uses(candidate.uses)
            ),
            Fraction(0),
        )
    boost = Fraction(candidate.boost) * policy.boost_for(candidate.key)
    return total * risk_multiplier(candidate.risk, policy.risk_alpha) * boost


@dataclass(slots=True)
class Member:
    """A candidate taking part in the split of the pool."""

    candidate: Candidate
    uses: list[tuple[str, int | None]]
    weight: Fraction
    multiplier: Fraction
    boost: Fraction
    scaled: int = 0  # weight × common denominator: exact integer weights for the solver
    lo: int = 0  # pinned floor in granularity units, 0 when not pinned


def weigh(members: list[Member], policy: Policy) -> None:
    """Exact weights, and the same weights scaled to integers for the solver."""
    if not members:
        return
    decay = policy.decay
    depths = {depth or policy.unknown_depth for m in members for _, depth in m.uses}
    deepest = max(depths, default=1)
    # Σ decay^(d−1) over a common denominator b^(deepest−1): integer sums, no Fraction
    # arithmetic per product use (thousands of projects × dozens of products).
    num, den = decay.numerator, decay.denominator
    terms = {d: num ** (d - 1) * den ** (deepest - d) for d in depths}
    base = den ** (deepest - 1)
    for member in members:
        given = member.candidate.dependence
        depth_sum = (
            sum(terms[depth or policy.unknown_depth] for _, depth in member.uses)
            if given is None
            else Fraction(given) * base
        )
        factor, boost = member.multiplier, member.boost
        # One Fraction (one gcd) instead of two multiplications.
        member.weight = Fraction(
            depth_sum * factor.numerator * boost.numerator,
            base * factor.denominator * boost.denominator,
        )
    common = math.lcm(*(m.weight.denominator for m in members))
    for member in members:
        member.scaled = member.weight.numerator * (common // member.weight.denominator)
