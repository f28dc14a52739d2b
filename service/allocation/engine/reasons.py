# ruff: noqa: RUF001, RUF003 - reasons and formulas use × → − as DESIGN.md writes them
"""Why a line is what it is, in words a reviewer understands."""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import cast

from service.allocation.engine.model import (
    RISK_MULTIPLIER_FLOOR,
)
from service.allocation.engine.weights import Member, ordered_uses
from service.allocation.policy import Policy
from service.money import format_amount

_REASON_PRODUCTS = 5


@dataclass(frozen=True, slots=True)
class Context:
    currency: str
    budget: int
    step: int
    policy: Policy
    products_total: int


def _number(value: Fraction, places: int = 2) -> str:
    """A short decimal for people: 1.5, 1.22, 72."""
    text = f"{float(value):.{places}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def reason(
    member: Member,
    context: Context,
    *,
    cap: Fraction | None = None,
    relaxed: bool = False,
    raised: bool = False,
) -> str:
    """Why the line is what it is, in words a reviewer understands."""
    policy = context.policy
    candidate = member.candidate
    parts = [candidate.basis] if candidate.basis else [_used_by(member, context)]
    if candidate.risk is None:
        if not candidate.basis:
            parts.append("risk unknown → ×1 (neutral)")
    else:
        floor_note = " (floor)" if member.multiplier == RISK_MULTIPLIER_FLOOR else ""
        risk = cast(Fraction, candidate.risk)  # Candidate made it a Fraction
        parts.append(f"risk {_number(risk, 1)} → ×{float(member.multiplier):.2f}{floor_note}")

    if candidate.override is not None:
        note = f": {candidate.override_note}" if candidate.override_note else ""
        parts.append(
            f"fixed at {format_amount(candidate.override, context.currency)} by the OSPO{note}"
        )
    if cap is not None:
        cap_minor = cap * context.step
        percent = _number(cap_minor / context.budget * 100) if context.budget else "0"
        limit = format_amount(math.ceil(cap_minor), context.currency)
        text = f"capped at {percent}% of budget ({limit})"
        if relaxed:
            text += (
                f"; the {_number(policy.cap * 100)}% cap is relaxed "
                "because too few projects share the budget"
            )
        parts.append(text)
    if member.boost != 1 and candidate.override is None:
        parts.append(
            f"boosted ×{_number(member.boost)}"
            if member.boost > 1
            else f"reduced ×{_number(member.boost)}"
        )
    if candidate.pin_minimum is not None and candidate.override is None:
        floor_text = format_amount(member.lo * context.step, context.currency)
        parts.append(
            f"raised to its pinned minimum {floor_text}" if raised else f"pinned at ≥ {floor_text}"
        )
    return "; ".join(parts)


def _used_by(member: Member, context: Context) -> str:
    """ "used by 2 of 3 products (web at depth 1, api at depth 2)"."""
    named = []
    for product, depth in ordered_uses(member.uses)[:_REASON_PRODUCTS]:
        if depth is None:
            named.append(f"{product} at unknown depth (counted as {context.policy.unknown_depth})")
        else:
            named.append(f"{product} at depth {depth}")
    more = len(member.uses) - _REASON_PRODUCTS
    if more > 0:
        named.append(f"and {more} more")
    total = context.products_total
    plural = "s" if total != 1 else ""
    return f"used by {len(member.uses)} of {total} product{plural} ({', '.join(named)})"
