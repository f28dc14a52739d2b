# ruff: noqa: RUF001, RUF002, RUF003 - reasons and formulas use × → − as DESIGN.md writes them
"""The monthly split: a budget over the open source projects a company depends on. Pure.

This module implements DESIGN.md "Allocation — the monthly split" over plain data; it
reads no database, no Flask state and no files. All money is integer minor units; every
step that decides money uses exact integer or ``Fraction`` arithmetic, so the same input
gives the same output on every machine, whatever the order of the candidates.

The steps, with the decisions the design leaves open:

1. **Candidates.** A candidate is dropped (and listed in ``omitted`` with the reason) when
   it is first-party (flag, or its owner is in ``first_party_owners``), excluded by the
   OSPO or by the policy (project, owner or ecosystem), used by no product, unclaimed
   under policy "skip", or unclaimed for ``hold_months`` months already under policy
   "hold" (step 5). Overrides take their fixed amount out of the budget here; the rest,
   the *pool*, is split among the remaining candidates.
2. **Weight** = Σ over products of ``decay^(depth−1)`` (shallowest depth per product;
   unknown depth counts as ``unknown_depth``) × risk multiplier × boost. The risk
   multiplier is ``1 + α·(risk/100 − 0.5)`` with an unknown risk counted as 50 (×1),
   floored at ``RISK_MULTIPLIER_FLOOR`` (0.01) so that a large α can never make a weight
   zero or negative; the floor keeps the multiplier non-decreasing in risk. The boost is
   the candidate's ``boost`` times the policy's ``boosts`` entry for it.
3. **Share, cap, minimum.** The pool is split in *granularity units* (``pool //
   granularity``; the indivisible rest is remainder). Each project gets
   ``min(cap, λ·weight)`` with one λ for all, chosen so the pool is used exactly; this is
   the fixed point of "re-spread the excess over the uncapped until none exceeds".
   The cap is ``cap·budget`` rounded *down* to the granularity, so rounding never lifts a
   line over it. When the projects are too few to place the pool under that cap (fewer
   than about 1/cap), the cap is relaxed to the smallest value that places it: for n
   projects ``max(cap·budget, pool/n)`` (pins count at their floor), and the lines are
   then equal except for rounding and pins. ``Proposal.cap`` is the cap applied. The
   minimum (``max(minimum, granularity)`` rounded *up* to the granularity, so rounding
   never drops a line under it) is applied DESIGN's way: while the smallest line is
   under it, the smallest project (lowest weight; on equal weight the later key) is
   dropped and the pool re-normalized (the cap is relaxed again if the projects left
   are too few).
4. **Rounding** by largest remainder in granularity units, ties to the earlier key.
   ``remainder`` = what could not be placed: the pool's part below one granularity step,
   or the whole pool when no project can be paid.
5. **Unclaimed.** Under "hold", an unclaimed project with ``months_held < hold_months``
   takes part in steps 2–4 like any other and its amount is reported in ``held`` instead
   of ``lines`` (reserved for its maintainers; the caller keeps the reserve). Once
   ``months_held >= hold_months`` — and at once under "skip" — it no longer takes part,
   so the share it would have had is re-spread over the others by step 3 itself. The
   engine decides this month's money only; releasing reserves of earlier months is the
   caller's job. Always: ``Σ lines + Σ held + remainder == budget``.
6. :func:`split_among_maintainers` splits one line among its maintainers.

OSPO adjustments: ``override`` fixes a line's amount (a multiple of the granularity; may
be over the cap or under the minimum; 0 means "not this month"). ``pin_minimum``
guarantees at least that amount (rounded up to the granularity and to the minimum): the
project is never dropped for the minimum and its share is ``clamp(λ·weight, pin,
max(cap, pin))``. Overrides over the budget and pins over the pool are errors naming the
project.

Properties (tests/allocation/test_engine_properties.py checks them):

- exact sum, determinism and input-order independence: always;
- no line over the cap (overrides excepted; a pinned line may reach its pin), every line
  at or over the minimum (overrides excepted): always, exactly;
- a project's amount never decreases when only its own weight increases: exactly for
  the unrounded amounts (``Line.exact``), and exactly after rounding as long as the
  same projects are paid. When the larger weight pushes another project under the
  minimum, that project's money is re-spread and largest-remainder rounding can, in rare
  cases, cost the project one granularity step (the "new states" paradox of the
  largest-remainder method; Balinski and Young showed that no method keeping every line
  within one step of its exact share is free of such paradoxes). Tolerance: one
  granularity step, only when the set of paid projects changes.
- excluding a project never decreases another's amount: exactly for unrounded amounts
  and within one granularity step after rounding (the same paradox), as long as the
  exclusion does not bring back projects that the minimum had dropped. When it does,
  DESIGN's own minimum rule (keep every project that meets the minimum) makes them share
  the freed money and another line can get less, by more than one step (a worked case
  is in tests/allocation/test_engine.py); no rule that keeps every project meeting the
  minimum avoids this. In every case nobody paid before loses their line.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from service.allocation.policy import InputError, Number, Policy, as_fraction, describe, owner_of
from service.money import Money, MoneyError, format_amount, normalize_currency

__all__ = [
    "MAX_DEPTH",
    "NEUTRAL_RISK",
    "RISK_MULTIPLIER_FLOOR",
    "AllocationError",
    "Candidate",
    "HeldEntry",
    "Line",
    "Omitted",
    "ProductUse",
    "Proposal",
    "allocate",
    "project_weight",
    "risk_multiplier",
    "split_among_maintainers",
]

#: The risk multiplier never goes below this, so no weight is ever zero or negative.
RISK_MULTIPLIER_FLOOR = Fraction(1, 100)
#: An unknown risk counts as this score: a neutral ×1 multiplier.
NEUTRAL_RISK = Fraction(50)
#: Deepest dependency depth accepted. Exact weights carry decay^(depth−1) as integers,
#: so an absurd depth (a broken graph, hostile input) must not make them megabits long.
MAX_DEPTH = 1000
#: How many products a reason names before it says "and N more".
_REASON_PRODUCTS = 5


class AllocationError(ValueError):
    """Input the engine cannot split; ``project`` and ``field`` say where."""

    def __init__(self, message: str, *, project: str | None = None, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.project = project
        self.field = field


@dataclass(frozen=True, slots=True)
class ProductUse:
    """A project's shallowest dependency depth in one product (None = unknown)."""

    product: str
    depth: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.product, str) or not self.product.strip():
            raise AllocationError(
                f"product name: expected a non-empty string, got {describe(self.product)}"
            )
        if self.depth is not None and (
            isinstance(self.depth, bool) or not isinstance(self.depth, int) or self.depth < 1
        ):
            raise AllocationError(
                f"depth in {self.product}: expected an integer ≥ 1 or None, "
                f"got {describe(self.depth)}"
            )
        if self.depth is not None and self.depth > MAX_DEPTH:
            raise AllocationError(
                f"depth in {self.product}: {self.depth} is deeper than {MAX_DEPTH}; "
                "check the dependency graph"
            )


@dataclass(frozen=True, slots=True)
class Candidate:
    """One project the company depends on, as the allocation sees it.

    Amounts (``override``, ``pin_minimum``) are minor units of the budget currency.
    ``owner`` defaults to the owner part of ``key``. ``risk`` is 0..100 or None.
    """

    key: str
    uses: Sequence[ProductUse] = ()
    risk: Number | None = None
    claimed: bool = False
    first_party: bool = False
    excluded: bool = False
    boost: Number = 1
    owner: str | None = None
    ecosystem: str | None = None
    override: int | None = None
    override_note: str | None = None
    pin_minimum: int | None = None
    months_held: int = 0

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        if not isinstance(self.key, str) or not self.key.strip():
            raise AllocationError(
                f"project key: expected a non-empty string, got {describe(self.key)}"
            )
        where = {"project": self.key}
        uses = tuple(self.uses)
        for use in uses:
            if not isinstance(use, ProductUse):
                raise AllocationError(
                    f"{self.key}: uses must be ProductUse values", **where, field="uses"
                )
        set_(self, "uses", uses)
        if self.risk is not None:
            risk = _fraction(self.risk, self.key, "risk")
            if not 0 <= risk <= 100:
                raise AllocationError(
                    f"{self.key}: risk must be 0..100, got {describe(self.risk)}",
                    **where,
                    field="risk",
                )
            set_(self, "risk", risk)
        boost = _fraction(self.boost, self.key, "boost")
        if boost <= 0:
            raise AllocationError(
                f"{self.key}: boost must be > 0, got {describe(self.boost)}", **where, field="boost"
            )
        set_(self, "boost", boost)
        for name in ("override", "pin_minimum"):
            value = getattr(self, name)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or value < 0
            ):
                raise AllocationError(
                    f"{self.key}: {name} must be an amount ≥ 0 in minor units, "
                    f"got {describe(value)}",
                    **where,
                    field=name,
                )
        held = self.months_held
        if isinstance(held, bool) or not isinstance(held, int) or held < 0:
            raise AllocationError(
                f"{self.key}: months_held must be an integer ≥ 0, got {describe(held)}",
                **where,
                field="months_held",
            )

    @property
    def owner_name(self) -> str:
        return self.owner if self.owner else owner_of(self.key)


@dataclass(frozen=True, slots=True)
class Line:
    """One payment of the proposal. ``exact`` is the unrounded amount (minor units)."""

    project: str
    amount: int
    share: float
    weight: float
    reason: str
    exact: Fraction
    capped: bool = False
    boosted: bool = False
    overridden: bool = False
    pinned: bool = False


@dataclass(frozen=True, slots=True)
class HeldEntry:
    """An unclaimed project's amount, reserved for its maintainers this month."""

    project: str
    amount: int
    share: float
    weight: float
    reason: str
    exact: Fraction
    months_held: int


@dataclass(frozen=True, slots=True)
class Omitted:
    """A candidate that gets nothing this month, and why (``code`` for programs)."""

    project: str
    code: str
    reason: str


@dataclass(frozen=True, slots=True)
class Proposal:
    """The split. ``Σ lines + Σ held + remainder == budget``, always.

    ``cap`` is the largest amount a line may get (minor units, after relaxation; a pinned
    line may reach its pin, an override is what the OSPO set; None when no project shared
    the pool), ``minimum`` the smallest (overrides aside), both as applied.
    """

    currency: str
    budget: int
    lines: tuple[Line, ...]
    held: tuple[HeldEntry, ...]
    remainder: int
    omitted: tuple[Omitted, ...]
    cap: int | None
    cap_relaxed: bool
    minimum: int
    granularity: int

    @property
    def total_lines(self) -> int:
        return sum(line.amount for line in self.lines)

    @property
    def total_held(self) -> int:
        return sum(entry.amount for entry in self.held)

    def amount_of(self, project: str) -> int:
        """What ``project`` gets this month, paid or held (0 if nothing)."""
        for entry in (*self.lines, *self.held):
            if entry.project == project:
                return entry.amount
        return 0


# --- weights -------------------------------------------------------------------------


def risk_multiplier(risk: Number | None, alpha: Number = 1) -> Fraction:
    """``1 + α·(risk/100 − 0.5)``, unknown risk = 50, floored at RISK_MULTIPLIER_FLOOR."""
    r = NEUTRAL_RISK if risk is None else as_fraction(risk, "risk")
    value = 1 + as_fraction(alpha, "risk_alpha") * (r / 100 - Fraction(1, 2))
    return max(value, RISK_MULTIPLIER_FLOOR)


def _merged_uses(uses: Iterable[ProductUse]) -> list[tuple[str, int | None]]:
    """One entry per product at its shallowest known depth; ordered for reading."""
    best: dict[str, int | None] = {}
    for use in uses:
        if use.product not in best:
            best[use.product] = use.depth
        elif use.depth is not None:
            current = best[use.product]
            best[use.product] = use.depth if current is None else min(current, use.depth)
    return sorted(best.items(), key=lambda item: (item[1] is None, item[1] or 0, item[0]))


def project_weight(candidate: Candidate, policy: Policy | None = None) -> Fraction:
    """The exact weight of one candidate under ``policy`` (DESIGN step 2)."""
    policy = policy or Policy()
    total = sum(
        (
            policy.decay ** ((depth or policy.unknown_depth) - 1)
            for _, depth in _merged_uses(candidate.uses)
        ),
        Fraction(0),
    )
    boost = Fraction(candidate.boost) * policy.boost_for(candidate.key)
    return total * risk_multiplier(candidate.risk, policy.risk_alpha) * boost


# --- the split -----------------------------------------------------------------------


@dataclass(slots=True)
class _Member:
    """A candidate taking part in the split of the pool."""

    candidate: Candidate
    uses: list[tuple[str, int | None]]
    weight: Fraction
    multiplier: Fraction
    boost: Fraction
    scaled: int = 0  # weight × common denominator: exact integer weights for the solver
    lo: int = 0  # pinned floor in granularity units, 0 when not pinned


class _Solver:
    """Capped, minimum-respecting proportional split of ``units`` over integer weights.

    ``free`` members are sorted by weight descending (equal weights: earlier key first),
    so "the k largest" is a prefix and the smallest of a prefix is its last member. A
    pinned member has a floor ``lo`` and is never dropped. Amounts are
    ``min(C, λ·w)`` (free) and ``clamp(λ·w, lo, max(C, lo))`` (pinned).
    """

    def __init__(
        self,
        free: list[int],
        pinned: list[tuple[int, int]],
        units: int,
        base_cap: int,
        minimum: int,
    ):
        self.w = free
        self.prefix = [0]
        for weight in free:
            self.prefix.append(self.prefix[-1] + weight)
        self.pinned = pinned
        self.los_desc = sorted((lo for _, lo in pinned), reverse=True)
        self.units = units
        self.base_cap = base_cap
        self.minimum = minimum

    def cap(self, k: int) -> tuple[Fraction, bool]:
        """The cap for the k largest free members plus the pinned; relaxed if too few."""
        needed = self._smallest_cap(k)
        if needed > self.base_cap:
            return needed, True
        return Fraction(self.base_cap), False

    def _smallest_cap(self, k: int) -> Fraction:
        """The least C with k·C + Σ max(C, lo) ≥ units: the cap that still places the pool."""
        los = self.los_desc
        if sum(los) >= self.units or k + len(los) == 0:
            return Fraction(0)
        taken = 0
        for t in range(len(los) + 1):
            # Suppose exactly the t largest floors are above C: solve linearly and check.
            slots = k + len(los) - t
            if slots > 0:
                c = Fraction(self.units - taken, slots)
                above = los[t - 1] if t > 0 else None
                below = los[t] if t < len(los) else 0
                if c >= below and (above is None or c <= above):
                    return c
            if t < len(los):
                taken += los[t]
        raise AssertionError("no cap places the pool")  # pragma: no cover - f is continuous

    def _capped(self, lam: Fraction, k: int, cap: Fraction) -> int:
        """How many of the k largest free members reach the cap at λ (a prefix)."""
        lo, hi = 0, k
        while lo < hi:
            mid = (lo + hi) // 2
            if lam * self.w[mid] >= cap:
                lo = mid + 1
            else:
                hi = mid
        return lo

    def _total(self, lam: Fraction, k: int, cap: Fraction) -> Fraction:
        t = self._capped(lam, k, cap)
        total = cap * t + lam * (self.prefix[k] - self.prefix[t])
        for weight, lo in self.pinned:
            total += min(max(lam * weight, lo), max(cap, lo))
        return total

    def solve(self, k: int) -> tuple[Fraction, bool, Fraction | None]:
        """(cap, relaxed, λ) for the k largest free members; λ None = all at their cap."""
        cap, relaxed = self.cap(k)
        saturated = cap * k + sum(max(cap, lo) for _, lo in self.pinned)
        if saturated == self.units:
            return cap, relaxed, None
        # The total is continuous and non-decreasing in λ and piecewise linear between
        # breakpoints (a free member reaching the cap; a pinned one leaving its floor or
        # reaching its ceiling). Find the piece where it crosses `units`, then solve it.
        units = self.units

        def fits(lam: Fraction) -> bool:
            return self._total(lam, k, cap) <= units

        lo, hi = 0, k  # free breakpoints cap/w[i] ascend with i
        while lo < hi:
            mid = (lo + hi) // 2
            if fits(cap / self.w[mid]):
                lo = mid + 1
            else:
                hi = mid
        start = cap / self.w[lo - 1] if lo > 0 else Fraction(0)
        end = cap / self.w[lo] if lo < k else None
        points = sorted(
            {
                p
                for weight, floor in self.pinned
                for p in (Fraction(floor, weight), max(cap, floor) / weight)
                if p > start and (end is None or p < end)
            }
        )
        lo, hi = 0, len(points)
        while lo < hi:
            mid = (lo + hi) // 2
            if fits(points[mid]):
                lo = mid + 1
            else:
                hi = mid
        if lo > 0:
            start = points[lo - 1]
        if lo < len(points):
            end = points[lo]
        # Inside (start, end) every member is either constant or linear in λ.
        probe = (start + end) / 2 if end is not None else start + 1
        t = self._capped(probe, k, cap)
        constant = cap * t
        slope = self.prefix[k] - self.prefix[t]
        for weight, floor in self.pinned:
            value = probe * weight
            if value <= floor:
                constant += floor
            elif value >= max(cap, floor):
                constant += max(cap, floor)
            else:
                slope += weight
        lam = start if slope == 0 else (units - constant) / slope
        return cap, relaxed, lam

    def feasible(self, k: int) -> bool:
        """Whether the smallest of the k largest free members meets the minimum."""
        if k == 0:
            return True
        cap, _, lam = self.solve(k)
        smallest = cap if lam is None else min(cap, lam * self.w[k - 1])
        return smallest >= self.minimum

    def kept(self) -> int:
        """DESIGN's "drop the smallest until every line meets the minimum", as a count.

        Dropping a project never lowers another's share, so feasibility is monotone in
        k and the first feasible k from the top (what dropping one by one finds) is the
        largest feasible k: a binary search finds it in O(log n) solves.
        """
        lo, hi = 0, len(self.w)
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self.feasible(mid):
                lo = mid
            else:
                hi = mid - 1
        return lo


def allocate(
    candidates: Iterable[Candidate], budget: Money, policy: Policy | None = None
) -> Proposal:
    """Split ``budget`` over ``candidates`` under ``policy`` (DESIGN "Allocation")."""
    policy = policy or Policy()
    try:
        currency = normalize_currency(budget.currency)
    except MoneyError as exc:
        raise AllocationError(str(exc), field="currency") from None
    total = budget.minor
    if isinstance(total, bool) or not isinstance(total, int) or total < 0:
        raise AllocationError(
            f"budget must be an amount ≥ 0 in minor units, got {describe(total)}", field="budget"
        )
    step = policy.granularity
    minimum_units = max(1, -(-policy.minimum_for(currency) // step))

    ordered = sorted(candidates, key=lambda c: c.key)
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
    products_total = len({use.product for c in ordered for use in c.uses})

    omitted: list[Omitted] = []
    members: list[_Member] = []
    multipliers: dict[Any, Fraction] = {}
    for candidate in ordered:
        why = _ineligible(candidate, policy)
        if why is not None:
            omitted.append(Omitted(candidate.key, *why))
            continue
        boost = candidate.boost * policy.boost_for(candidate.key)  # type: ignore[operator]
        # Risk scores repeat a lot (integers 0..100): compute each multiplier once.
        if candidate.risk not in multipliers:
            multipliers[candidate.risk] = risk_multiplier(candidate.risk, policy.risk_alpha)
        multiplier = multipliers[candidate.risk]
        members.append(
            _Member(candidate, _merged_uses(candidate.uses), Fraction(0), multiplier, boost)
        )
    _weigh(members, policy)

    # Overrides come out of the budget first; the pool is what is left.
    overrides = [m for m in members if m.candidate.override is not None]
    pool_members = [m for m in members if m.candidate.override is None]
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
    pool = total - fixed
    units = pool // step

    for member in pool_members:
        pin = member.candidate.pin_minimum
        if pin is not None:
            member.lo = max(-(-pin // step), minimum_units)
    floors = sum(m.lo for m in pool_members)
    if floors > units:
        largest = min((m for m in pool_members if m.lo), key=lambda m: (-m.lo, m.candidate.key))
        raise AllocationError(
            f"pinned minimums total {format_amount(floors * step, currency)}, more than the "
            f"{format_amount(units * step, currency)} left after overrides",
            project=largest.candidate.key,
            field="pin_minimum",
        )

    base_cap = int(policy.cap * total) // step  # rounded down: rounding never lifts a line over it
    free = sorted((m for m in pool_members if not m.lo), key=lambda m: (-m.scaled, m.candidate.key))
    pinned = [m for m in pool_members if m.lo]
    solver = _Solver(
        [m.scaled for m in free], [(m.scaled, m.lo) for m in pinned], units, base_cap, minimum_units
    )
    kept = solver.kept() if free or pinned else 0
    for member in free[kept:]:
        omitted.append(
            Omitted(
                member.candidate.key,
                "below_minimum",
                f"its share would be under the minimum payout of "
                f"{format_amount(minimum_units * step, currency)}: dropped (smallest first) "
                f"and the budget re-normalized over the rest",
            )
        )
    paid = free[:kept] + pinned

    lines: list[Line] = []
    held: list[HeldEntry] = []
    cap_amount: int | None = None
    relaxed = False
    context = _Context(currency, total, step, policy, products_total)
    if paid:
        cap, relaxed, lam = solver.solve(kept)
        cap_amount = math.ceil(cap) * step
        exacts, rounded = _round(paid, cap, lam, units)
        if lam is None:
            # Everyone sits at the cap: the smallest λ that puts them there tells who is
            # held back by it (a lone project taking the whole pool is not "capped").
            lam = max(Fraction(max(cap, m.lo), m.scaled) for m in paid)
        for member, exact, amount_units in zip(paid, exacts, rounded, strict=True):
            # Capped / raised = the bound changed the amount, not merely equals it.
            wanted = lam * member.scaled
            is_capped = exact == cap and wanted > cap
            raised = bool(member.lo) and exact == member.lo and wanted < member.lo
            amount = amount_units * step
            reason = _reason(
                member, context, cap=cap if is_capped else None, relaxed=relaxed, raised=raised
            )
            _emit(member, amount, exact * step, reason, context, lines, held, capped=is_capped)
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
        _emit(
            member,
            amount,
            Fraction(amount),
            _reason(member, context),
            context,
            lines,
            held,
            overridden=True,
        )

    placed = sum(line.amount for line in lines) + sum(entry.amount for entry in held)
    lines.sort(key=lambda line: (-line.amount, line.project))
    held.sort(key=lambda entry: (-entry.amount, entry.project))
    omitted.sort(key=lambda entry: entry.project)
    return Proposal(
        currency=currency,
        budget=total,
        lines=tuple(lines),
        held=tuple(held),
        remainder=total - placed,
        omitted=tuple(omitted),
        cap=cap_amount,
        cap_relaxed=relaxed,
        minimum=minimum_units * step,
        granularity=step,
    )


def _ineligible(candidate: Candidate, policy: Policy) -> tuple[str, str] | None:
    """(code, reason) when the candidate takes no part this month (steps 1 and 5)."""
    owner = candidate.owner_name
    if candidate.first_party:
        return "first_party", "first-party: the company's own project"
    if owner.casefold() in policy.first_party_owners:
        return "first_party", f"first-party: owned by the company's organisation {owner}"
    if candidate.excluded:
        return "excluded", "excluded by the OSPO"
    if candidate.key.casefold() in policy.exclude_projects:
        return "policy_excluded", "excluded by policy (project)"
    if owner.casefold() in policy.exclude_owners:
        return "policy_excluded", f"excluded by policy (owner {owner})"
    if candidate.ecosystem and candidate.ecosystem.casefold() in policy.exclude_ecosystems:
        return "policy_excluded", f"excluded by policy (ecosystem {candidate.ecosystem})"
    if not candidate.uses:
        return "not_used", "not used by any product"
    if not candidate.claimed:
        if policy.unclaimed == "skip":
            return (
                "unclaimed_skipped",
                "unclaimed, and the policy skips unclaimed projects: its share went to the others",
            )
        if candidate.months_held >= policy.hold_months:
            return (
                "hold_expired",
                f"unclaimed after {candidate.months_held} month(s) on hold: "
                "its share went to the others",
            )
    return None


def _weigh(members: list[_Member], policy: Policy) -> None:
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
        depth_sum = sum(terms[depth or policy.unknown_depth] for _, depth in member.uses)
        factor, boost = member.multiplier, member.boost
        # One Fraction (one gcd) instead of two multiplications.
        member.weight = Fraction(
            depth_sum * factor.numerator * boost.numerator,
            base * factor.denominator * boost.denominator,
        )
    common = math.lcm(*(m.weight.denominator for m in members))
    for member in members:
        member.scaled = member.weight.numerator * (common // member.weight.denominator)


def _round(
    paid: list[_Member], cap: Fraction, lam: Fraction | None, units: int
) -> tuple[list[Fraction], list[int]]:
    """Exact shares (in units) and their largest-remainder rounding, ties to the earlier key."""
    lam_value = lam if lam is not None else Fraction(0)
    common = math.lcm(cap.denominator, lam_value.denominator)
    cap_scaled = cap.numerator * (common // cap.denominator)
    lam_factor = lam_value.numerator * (common // lam_value.denominator)
    scaled: list[int] = []
    for member in paid:
        ceiling = max(cap_scaled, member.lo * common)
        value = (
            ceiling
            if lam is None
            else min(max(member.scaled * lam_factor, member.lo * common), ceiling)
        )
        scaled.append(value)
    assert sum(scaled) == units * common, "the exact shares must use the pool exactly"
    floors = [value // common for value in scaled]
    leftover = units - sum(floors)
    order = sorted(range(len(paid)), key=lambda i: (-(scaled[i] % common), paid[i].candidate.key))
    for i in order[:leftover]:
        floors[i] += 1
    return [Fraction(value, common) for value in scaled], floors


@dataclass(frozen=True, slots=True)
class _Context:
    currency: str
    budget: int
    step: int
    policy: Policy
    products_total: int


def _emit(
    member: _Member,
    amount: int,
    exact: Fraction,
    reason: str,
    context: _Context,
    lines: list[Line],
    held: list[HeldEntry],
    *,
    capped: bool = False,
    overridden: bool = False,
) -> None:
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


def _number(value: Fraction, places: int = 2) -> str:
    """A short decimal for people: 1.5, 1.22, 72."""
    text = f"{float(value):.{places}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _reason(
    member: _Member,
    context: _Context,
    *,
    cap: Fraction | None = None,
    relaxed: bool = False,
    raised: bool = False,
) -> str:
    """Why the line is what it is, in words a reviewer understands."""
    policy = context.policy
    candidate = member.candidate
    parts = []
    named = []
    for product, depth in member.uses[:_REASON_PRODUCTS]:
        if depth is None:
            named.append(f"{product} at unknown depth (counted as {policy.unknown_depth})")
        else:
            named.append(f"{product} at depth {depth}")
    more = len(member.uses) - _REASON_PRODUCTS
    if more > 0:
        named.append(f"and {more} more")
    total = context.products_total
    plural = "s" if total != 1 else ""
    parts.append(f"used by {len(member.uses)} of {total} product{plural} ({', '.join(named)})")
    if candidate.risk is None:
        parts.append("risk unknown → ×1 (neutral)")
    else:
        floor_note = " (floor)" if member.multiplier == RISK_MULTIPLIER_FLOOR else ""
        risk = Fraction(candidate.risk)  # type: ignore[arg-type]
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


def _fraction(value: Any, project: str, field: str) -> Fraction:
    try:
        return as_fraction(value, field)
    except InputError as exc:
        raise AllocationError(f"{project}: {exc.message}", project=project, field=field) from None


# --- step 6 --------------------------------------------------------------------------


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
