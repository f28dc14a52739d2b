# ruff: noqa: RUF003 - reasons and formulas use × → − as DESIGN.md writes them
"""The engine's input and output: candidates in, a proposal out (plain, validated data)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from service.allocation.policy import owner_of
from service.numbers import InputError, Number, as_fraction, describe

RISK_MULTIPLIER_FLOOR = Fraction(1, 100)


NEUTRAL_RISK = Fraction(50)


MAX_DEPTH = 1000


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


_USE_TYPES = frozenset({ProductUse})  # the uses' types when none is a subclass


@dataclass(frozen=True, slots=True)
class Candidate:
    """One project the company depends on, as the allocation sees it.

    Amounts (``override``, ``pin_minimum``) are minor units of the budget currency.
    ``owner`` defaults to the owner part of ``key``. ``risk`` is 0..100 or None.
    ``dependence`` replaces Σ decay^(depth-1) over ``uses`` when the caller has measured
    it another way (a registry's steward: the company's dependence on its ecosystems);
    ``basis`` then says in words what it is, for the line's reason.
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
    dependence: Number | None = None
    basis: str | None = None

    def __post_init__(self) -> None:
        # Runs once per candidate of a split (tens of thousands): values already of the
        # exact type they are kept as skip the conversions, and no set-up runs for errors.
        key = self.key
        if not isinstance(key, str) or not key.strip():
            raise AllocationError(f"project key: expected a non-empty string, got {describe(key)}")
        uses = self.uses
        if type(uses) is not tuple:
            uses = tuple(uses)
            object.__setattr__(self, "uses", uses)
        if not _USE_TYPES.issuperset(map(type, uses)):
            for use in uses:
                if not isinstance(use, ProductUse):
                    raise AllocationError(
                        f"{key}: uses must be ProductUse values", project=key, field="uses"
                    )
        if self.risk is not None:
            risk = _fraction(self, "risk")
            # Integer comparisons: Fraction's own are slow.
            if not 0 <= risk.numerator <= 100 * risk.denominator:
                raise AllocationError(
                    f"{key}: risk must be 0..100, got {describe(self.risk)}",
                    project=key,
                    field="risk",
                )
        if _fraction(self, "boost").numerator <= 0:
            raise AllocationError(
                f"{key}: boost must be > 0, got {describe(self.boost)}", project=key, field="boost"
            )
        for name, value in (("override", self.override), ("pin_minimum", self.pin_minimum)):
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or value < 0
            ):
                raise AllocationError(
                    f"{key}: {name} must be an amount ≥ 0 in minor units, got {describe(value)}",
                    project=key,
                    field=name,
                )
        if self.dependence is not None and _fraction(self, "dependence").numerator <= 0:
            raise AllocationError(
                f"{key}: dependence must be > 0, got {describe(self.dependence)}",
                project=key,
                field="dependence",
            )
        held = self.months_held
        if isinstance(held, bool) or not isinstance(held, int) or held < 0:
            raise AllocationError(
                f"{key}: months_held must be an integer ≥ 0, got {describe(held)}",
                project=key,
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
        entries: tuple[Line | HeldEntry, ...] = (*self.lines, *self.held)
        for entry in entries:
            if entry.project == project:
                return entry.amount
        return 0


def _fraction(candidate: Candidate, field: str) -> Fraction:
    """The candidate's ``field`` as a Fraction, stored as one; bad values name the field."""
    value = getattr(candidate, field)
    if type(value) is Fraction:
        return value
    try:
        exact = as_fraction(value, field)
    except InputError as exc:
        key = candidate.key
        raise AllocationError(f"{key}: {exc.message}", project=key, field=field) from None
    object.__setattr__(candidate, field, exact)
    return exact
