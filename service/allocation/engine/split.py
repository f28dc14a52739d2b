# ruff: noqa: RUF003 - reasons and formulas use × → − as DESIGN.md writes them
"""allocate(): the monthly split, composed of the named steps of the package docstring.

Each step is a function of its own: who takes part (``eligibility``), their weights
(``weights``), overrides and pins out of the budget (here), the capped split with its
minimum (``solver.Solver``), the rounding (``solver.round_shares``) and holding an
unclaimed project's amount (``_emit``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from fractions import Fraction
from itertools import chain
from operator import attrgetter
from typing import cast

from service.allocation.engine.eligibility import ineligible
from service.allocation.engine.model import (
    AllocationError,
    Candidate,
    HeldEntry,
    Line,
    Omitted,
    Proposal,
)
from service.allocation.engine.reasons import Context, reason
from service.allocation.engine.solver import Solver, round_shares
from service.allocation.engine.weights import Member, merged_uses, risk_multiplier, weigh
from service.allocation.policy import Policy
from service.core.collector import collector_paused
from service.money import Money, MoneyError, format_amount, normalize_currency
from service.numbers import describe


@collector_paused()  # tens of thousands of projects: millions of objects, none cyclic
def allocate(
    candidates: Iterable[Candidate],
    budget: Money,
    policy: Policy | None = None,
    products_total: int | None = None,
) -> Proposal:
    """Split ``budget`` over ``candidates`` under ``policy`` (DESIGN "Allocation").

    ``products_total`` is how many products the company has, for the reasons' "used by 2
    of 8 products": the same count the proposal shows as its input. Without it, the
    products the candidates name (a product none of whose packages has a project yet
    is then not counted).
    """
    policy = policy or Policy()
    currency, total = checked_budget(budget)
    ordered = by_unique_key(candidates)
    step = policy.granularity
    if products_total is None:
        uses = chain.from_iterable(c.uses for c in ordered)
        products_total = len(set(map(attrgetter("product"), uses)))
    context = Context(currency, total, step, policy, products_total)
    members, omitted = take_part(ordered, policy)
    weigh(members, policy)

    # Overrides come out of the budget first; the pool is what is left.
    overrides = [m for m in members if m.candidate.override is not None]
    pool_members = [m for m in members if m.candidate.override is None]
    units = (total - overridden_total(overrides, context)) // step
    minimum_units = max(1, -(-policy.minimum_for(currency) // step))
    set_pins(pool_members, units, minimum_units, context)

    base_cap = int(policy.cap * total) // step  # rounded down: rounding never lifts a line over it
    # Heaviest first, equal weights by key: the members are in key order already and the
    # sort is stable (also in reverse), so the weight alone orders them.
    free = sorted((m for m in pool_members if not m.lo), key=attrgetter("scaled"), reverse=True)
    pinned = [m for m in pool_members if m.lo]
    solver = Solver(
        [m.scaled for m in free], [(m.scaled, m.lo) for m in pinned], units, base_cap, minimum_units
    )
    kept = solver.kept() if free or pinned else 0
    dropped = _below_minimum(minimum_units * step, currency)  # one reason for them all
    omitted.extend(Omitted(m.candidate.key, "below_minimum", dropped) for m in free[kept:])

    lines: list[Line] = []
    held: list[HeldEntry] = []
    paid = free[:kept] + pinned
    cap_amount, relaxed = _pay_pool(paid, solver, kept, units, context, lines, held)
    omitted.extend(_pay_overrides(overrides, context, lines, held))

    return _proposal(context, lines, held, omitted, cap_amount, relaxed, minimum_units * step)


def _proposal(
    context: Context,
    lines: list[Line],
    held: list[HeldEntry],
    omitted: list[Omitted],
    cap: int | None,
    cap_relaxed: bool,
    minimum: int,
) -> Proposal:
    """The proposal, its entries in the order it shows them: largest amounts first."""
    placed = sum(line.amount for line in lines) + sum(entry.amount for entry in held)
    lines.sort(key=lambda line: (-line.amount, line.project))
    held.sort(key=lambda entry: (-entry.amount, entry.project))
    omitted.sort(key=attrgetter("project"))
    return Proposal(
        currency=context.currency,
        budget=context.budget,
        lines=tuple(lines),
        held=tuple(held),
        remainder=context.budget - placed,
        omitted=tuple(omitted),
        cap=cap,
        cap_relaxed=cap_relaxed,
        minimum=minimum,
        granularity=context.step,
    )


def checked_budget(budget: Money) -> tuple[str, int]:
    """(currency, minor units) of a budget the engine can split."""
    try:
        currency = normalize_currency(budget.currency)
    except MoneyError as exc:
        raise AllocationError(str(exc), field="currency") from None
    total = budget.minor
    if isinstance(total, bool) or not isinstance(total, int) or total < 0:
        raise AllocationError(
            f"budget must be an amount ≥ 0 in minor units, got {describe(total)}", field="budget"
        )
    return currency, total


def by_unique_key(candidates: Iterable[Candidate]) -> list[Candidate]:
    """The candidates ordered by key; a key listed twice (case-insensitive) is an error."""
    ordered = sorted(candidates, key=attrgetter("key"))
    if len({candidate.key.casefold() for candidate in ordered}) == len(ordered):
        return ordered  # no key twice (nearly always): nothing to name
    seen: dict[str, str] = {}
    for candidate in ordered:
        folded = candidate.key.casefold()
        if folded in seen:
            raise AllocationError(
                f"project {candidate.key} is listed twice (also as {seen[folded]})",
                project=candidate.key,
                field="key",
            )
        seen[folded] = candidate.key
    return ordered


def take_part(ordered: list[Candidate], policy: Policy) -> tuple[list[Member], list[Omitted]]:
    """Steps 1 and 5: the members of this month's split (in the order of ``ordered``), and
    the candidates left out."""
    omitted: list[Omitted] = []
    members: list[Member] = []
    # Risk scores repeat a lot (integers 0..100): each multiplier is computed once, keyed
    # by the risk's integers (hashing a Fraction costs more than the look-up saves).
    multipliers: dict[tuple[int, int] | None, Fraction] = {}
    for candidate in ordered:
        why = ineligible(candidate, policy)
        if why is not None:
            omitted.append(Omitted(candidate.key, *why))
            continue
        boost = cast(Fraction, candidate.boost)  # Candidate made it a Fraction
        if policy.boosts:
            boost *= policy.boost_for(candidate.key)
        risk = cast(Fraction | None, candidate.risk)
        key = None if risk is None else (risk.numerator, risk.denominator)
        multiplier = multipliers.get(key)
        if multiplier is None:
            multiplier = multipliers[key] = risk_multiplier(risk, policy.risk_alpha)
        members.append(Member(candidate, merged_uses(candidate.uses), multiplier, boost))
    return members, omitted


def overridden_total(overrides: list[Member], context: Context) -> int:
    """What the OSPO's overrides take out of the budget; each must be payable and fit."""
    currency, total, step = context.currency, context.budget, context.step
    fixed = 0
    for member in overrides:
        amount = member.candidate.override
        assert amount is not None
        key = member.candidate.key
        if amount % step:
            raise AllocationError(
                f"override for {key} ({format_amount(amount, currency)}) is not a multiple of the "
                f"granularity {format_amount(step, currency)}: round it to a payable amount",
                project=key,
                field="override",
            )
        if amount > total:
            raise AllocationError(
                f"override for {key} ({format_amount(amount, currency)}) is larger than the budget "
                f"({format_amount(total, currency)})",
                project=key,
                field="override",
            )
        fixed += amount
    if fixed > total:
        largest = min(overrides, key=lambda m: (-(m.candidate.override or 0), m.candidate.key))
        listed = ", ".join(
            f"{m.candidate.key} {format_amount(m.candidate.override or 0, currency)}"
            for m in overrides
        )
        raise AllocationError(
            f"overrides total {format_amount(fixed, currency)}, more than the budget "
            f"{format_amount(total, currency)} ({listed})",
            project=largest.candidate.key,
            field="override",
        )
    return fixed


def set_pins(members: list[Member], units: int, minimum_units: int, context: Context) -> None:
    """Pinned floors in granularity units (at least the minimum); they must fit the pool."""
    step = context.step
    for member in members:
        pin = member.candidate.pin_minimum
        if pin is not None:
            member.lo = max(-(-pin // step), minimum_units)
    floors = sum(m.lo for m in members)
    if floors > units:
        largest = min((m for m in members if m.lo), key=lambda m: (-m.lo, m.candidate.key))
        raise AllocationError(
            f"pinned minimums total {format_amount(floors * step, context.currency)}, more "
            f"than the {format_amount(units * step, context.currency)} left after overrides",
            project=largest.candidate.key,
            field="pin_minimum",
        )


def _below_minimum(minimum: int, currency: str) -> str:
    """Why a project whose share is under the minimum gets nothing."""
    return (
        f"its share would be under the minimum payout of "
        f"{format_amount(minimum, currency)}: dropped (smallest first) "
        f"and the budget re-normalized over the rest"
    )


def _pay_pool(
    paid: list[Member],
    solver: Solver,
    kept: int,
    units: int,
    context: Context,
    lines: list[Line],
    held: list[HeldEntry],
) -> tuple[int | None, bool]:
    """Lines (or held entries) for the members sharing the pool: (cap applied, relaxed)."""
    if not paid:
        return None, False
    cap, relaxed, lam = solver.solve(kept)
    exacts, rounded = round_shares(paid, cap, lam, units)
    if lam is None:
        # Everyone sits at the cap: the smallest λ that puts them there tells who is
        # held back by it (a lone project taking the whole pool is not "capped").
        lam = max(max(cap, Fraction(m.lo)) / m.scaled for m in paid)
    for member, exact, amount_units in zip(paid, exacts, rounded, strict=True):
        # Capped / raised = the bound changed the amount, not merely equals it.
        wanted = lam * member.scaled
        is_capped = exact == cap and wanted > cap
        raised = bool(member.lo) and exact == member.lo and wanted < member.lo
        why = reason(
            member, context, cap=cap if is_capped else None, relaxed=relaxed, raised=raised
        )
        amount = amount_units * context.step
        _emit(member, amount, exact * context.step, why, context, lines, held, capped=is_capped)
    return math.ceil(cap) * context.step, relaxed


def _pay_overrides(
    overrides: list[Member], context: Context, lines: list[Line], held: list[HeldEntry]
) -> list[Omitted]:
    """Lines at the OSPO's fixed amounts; an override of 0 leaves the project out."""
    omitted = []
    for member in overrides:
        amount = member.candidate.override or 0
        if amount == 0:
            omitted.append(
                Omitted(
                    member.candidate.key,
                    "override_zero",
                    "override 0 by the OSPO: not paid this month",
                )
            )
            continue
        why = reason(member, context)
        _emit(member, amount, Fraction(amount), why, context, lines, held, overridden=True)
    return omitted


def _emit(
    member: Member,
    amount: int,
    exact: Fraction,
    reason: str,
    context: Context,
    lines: list[Line],
    held: list[HeldEntry],
    *,
    capped: bool = False,
    overridden: bool = False,
) -> None:
    """Step 5: a claimed project's amount is a line; an unclaimed one's is held for it."""
    candidate = member.candidate
    share = round(amount / context.budget, 6) if context.budget else 0.0
    weight = round(float(member.weight), 6)
    if not candidate.claimed:
        month = candidate.months_held + 1
        note = (
            f"unclaimed: held for its maintainers (month {month} of {context.policy.hold_months})"
        )
        held.append(
            HeldEntry(
                candidate.key,
                amount,
                share,
                weight,
                f"{reason}; {note}",
                exact,
                candidate.months_held,
            )
        )
        return
    lines.append(
        Line(
            project=candidate.key,
            amount=amount,
            share=share,
            weight=weight,
            reason=reason,
            exact=exact,
            capped=capped,
            boosted=member.boost != 1 and not overridden,
            overridden=overridden,
            pinned=candidate.pin_minimum is not None and not overridden,
        )
    )
