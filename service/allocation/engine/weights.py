# ruff: noqa: RUF002, RUF003 - reasons and formulas use × → − as DESIGN.md writes them
"""Step 2, weights: Σ over products of decay^(depth−1) × risk multiplier × boost."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
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


def merged_uses(uses: Sequence[ProductUse]) -> dict[str, int | None]:
    """One entry per product, at its shallowest known depth (None = unknown)."""
    best = {use.product: use.depth for use in uses}
    if len(best) == len(uses):
        return best  # each product once (nearly always): nothing to merge
    best = {}
    for use in uses:
        if use.product not in best:
            best[use.product] = use.depth
        elif use.depth is not None:
            current = best[use.product]
            best[use.product] = use.depth if current is None else min(current, use.depth)
    return best


def ordered_uses(uses: Mapping[str, int | None]) -> list[tuple[str, int | None]]:
    """(product, depth) shallowest first, unknown depths last, then by product: for reading."""
    ordered = sorted([(depth is None, depth or 0, product) for product, depth in uses.items()])
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
                for depth in merged_uses(candidate.uses).values()
            ),
            Fraction(0),
        )
    boost = Fraction(candidate.boost) * policy.boost_for(candidate.key)
    return total * risk_multiplier(candidate.risk, policy.risk_alpha) * boost


@dataclass(slots=True)
class Member:
    """A candidate taking part in the split of the pool."""

    candidate: Candidate
    uses: dict[str, int | None]  # product -> shallowest depth, as merged_uses() gives
    multiplier: Fraction
    boost: Fraction
    scaled: int = 0  # weight × common denominator: exact integer weights for the solver
    common: int = 1  # that denominator, the same for every member of the split
    lo: int = 0  # pinned floor in granularity units, 0 when not pinned

    @property
    def weight(self) -> Fraction:
        """The exact weight (DESIGN step 2)."""
        return Fraction(self.scaled, self.common)


def weigh(members: list[Member], policy: Policy) -> None:
    """Exact weights as integers over one common denominator (the least one)."""
    if not members:
        return
    unknown = policy.unknown_depth
    depths: set[int | None] = set().union(*(m.uses.values() for m in members))
    deepest = max((depth or unknown for depth in depths), default=1)
    # Σ decay^(d−1) over a common denominator b^(deepest−1): integer sums, no Fraction
    # arithmetic per product use (thousands of projects × dozens of products).
    num, den = policy.decay.numerator, policy.decay.denominator
    terms = {d: num ** ((d or unknown) - 1) * den ** (deepest - (d or unknown)) for d in depths}
    base = den ** (deepest - 1)
    # Each weight as (numerator, denominator) of integers: depth sum × multiplier × boost.
    parts = []
    for member in members:
        factor, boost = member.multiplier, member.boost
        given = member.candidate.dependence
        if given is None:
            top, bottom = sum(map(terms.__getitem__, member.uses.values())), base
        else:
            top, bottom = given.numerator, given.denominator  # type: ignore[union-attr]
        parts.append(
            (
                top * factor.numerator * boost.numerator,
                bottom * factor.denominator * boost.denominator,
            )
        )
    # The denominators are few (risks and boosts repeat): one multiple of them all, then
    # divided by what every scaled weight shares, which leaves the least common one.
    multiple = math.lcm(*{bottom for _, bottom in parts})
    scaled = [top * (multiple // bottom) for top, bottom in parts]
    shared = math.gcd(multiple, *scaled)
    for member, value in zip(members, scaled, strict=True):
        member.scaled = value // shared
        member.common = multiple // shared
