"""Allocation policy: the knobs of the monthly split, validated, with field-named errors.

A :class:`Policy` is always valid: every way of building one (the constructor or
:meth:`Policy.from_dict` for JSON-shaped data) goes through the same checks, and a bad
value raises :class:`InputError` naming the field (``cap``, ``boosts["github.com/o/r"]``).

Numbers that take part in the arithmetic (decay, risk alpha, cap, boosts) are kept as
exact fractions. Floats are read through their shortest decimal form, so ``0.1`` means
exactly one tenth, not the binary approximation; this keeps the split exact and the same on
every machine.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from fractions import Fraction
from types import MappingProxyType
from typing import Any, Literal

from service.money import MAX_MINOR, MoneyError, format_amount, parse_amount
from service.numbers import InputError, as_fraction, describe
from service.risk.exposure import DECAY, UNKNOWN_DEPTH

__all__ = [
    "POLICY_FIELDS",
    "Policy",
    "owner_of",
]

UnclaimedRule = Literal["hold", "skip"]

#: Same bound as the engine's deepest accepted depth (weights stay short integers).
MAX_UNKNOWN_DEPTH = 1000

#: At most half of the budget goes to registries: the maintainers stay the point.
MAX_INFRASTRUCTURE_SHARE = Fraction(1, 2)

#: The minimum payout when the policy sets none: 5.00 in the budget currency.
DEFAULT_MINIMUM = "5.00"


def owner_of(key: str) -> str:
    """The owner part of a project key: ``github.com/o/r`` -> ``o`` (empty if none)."""
    parts = [part for part in key.split("/") if part]
    return parts[1] if len(parts) >= 2 else ""


def _names(value: Any, field: str) -> frozenset[str]:
    """A set of case-folded names; GitHub owners, repos and ecosystems are case-insensitive."""
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise InputError(field, f"expected a list of strings, got {describe(value)}")
    names = []
    for index, item in enumerate(value):
        if not isinstance(item, str) or not item.strip():
            raise InputError(
                f"{field}[{index}]", f"expected a non-empty string, got {describe(item)}"
            )
        names.append(item.strip().casefold())
    return frozenset(names)


def _integer(value: Any, field: str, lowest: int, highest: int = MAX_MINOR) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < lowest:
        raise InputError(field, f"expected an integer ≥ {lowest}, got {describe(value)}")
    if value > highest:
        raise InputError(field, f"expected at most {highest}, got {describe(value)}")
    return value


def _boosts(raw: Any) -> Mapping[str, Fraction]:
    """``{project key: multiplier}``, the keys case-folded and sorted."""
    if not isinstance(raw, Mapping):
        raise InputError(
            "boosts", f"expected an object {{project: multiplier}}, got {describe(raw)}"
        )
    boosts: dict[str, Fraction] = {}
    for key, value in raw.items():
        where = f'boosts["{key}"]'
        if not isinstance(key, str) or not key.strip():
            raise InputError("boosts", f"expected project keys, got {describe(key)}")
        multiplier = as_fraction(value, where, "a multiplier > 0")
        if multiplier <= 0:
            raise InputError(where, f"expected a multiplier > 0, got {describe(value)}")
        folded = key.strip().casefold()
        # Two spellings of one key would make the result depend on dict order.
        if folded in boosts:
            raise InputError(where, "the same project is boosted twice (keys are case-insensitive)")
        boosts[folded] = multiplier
    return MappingProxyType(dict(sorted(boosts.items())))


@dataclass(frozen=True)
class Policy:
    """How a budget is split. Defaults are DESIGN.md's.

    ``minimum`` and ``granularity`` are in minor units of the budget currency; ``minimum``
    None means 5.00 in that currency. ``granularity`` is the smallest step a payout channel
    accepts (1 = any amount, 100 = whole dollars as GitHub Sponsors needs for USD).
    Exclusion lists, first-party owners and boost keys compare case-insensitively.

    The *infrastructure share* (off by default) sets part of the budget aside for the
    organisations that run the registries of the company's ecosystems: either a fraction
    of the budget (``infrastructure_share``, at most ``MAX_INFRASTRUCTURE_SHARE``) or a
    fixed amount (``infrastructure_amount``, minor units; wins when set).
    ``infrastructure_cap`` is the largest fraction of that part one organisation takes.
    """

    decay: Fraction = DECAY
    unknown_depth: int = UNKNOWN_DEPTH
    risk_alpha: Fraction = Fraction(1)
    cap: Fraction = Fraction(1, 10)
    minimum: int | None = None
    granularity: int = 1
    unclaimed: UnclaimedRule = "hold"
    hold_months: int = 2
    exclude_projects: frozenset[str] = frozenset()
    exclude_owners: frozenset[str] = frozenset()
    exclude_ecosystems: frozenset[str] = frozenset()
    boosts: Mapping[str, Fraction] = field(default_factory=dict)
    first_party_owners: frozenset[str] = frozenset()
    infrastructure_share: Fraction = Fraction(0)
    infrastructure_amount: int | None = None
    infrastructure_cap: Fraction = Fraction(1)

    def __post_init__(self) -> None:
        # Normalise in place (the dataclass is frozen, hence object.__setattr__) so that a
        # Policy built from floats or lists is indistinguishable from one built from JSON.
        set_ = object.__setattr__
        decay = as_fraction(self.decay, "decay")
        if not 0 < decay <= 1:
            raise InputError("decay", f"expected a number > 0 and ≤ 1, got {describe(self.decay)}")
        set_(self, "decay", decay)
        set_(self, "unknown_depth", _integer(self.unknown_depth, "unknown_depth", 1))
        if self.unknown_depth > MAX_UNKNOWN_DEPTH:
            raise InputError(
                "unknown_depth", f"expected at most {MAX_UNKNOWN_DEPTH}, got {self.unknown_depth}"
            )
        alpha = as_fraction(self.risk_alpha, "risk_alpha")
        if alpha < 0:
            raise InputError(
                "risk_alpha", f"expected a number ≥ 0, got {describe(self.risk_alpha)}"
            )
        set_(self, "risk_alpha", alpha)
        cap = as_fraction(self.cap, "cap")
        if not 0 < cap <= 1:
            raise InputError("cap", f"expected a fraction > 0 and ≤ 1, got {describe(self.cap)}")
        set_(self, "cap", cap)
        if self.minimum is not None:
            _integer(self.minimum, "minimum", 0)
        _integer(self.granularity, "granularity", 1)
        if self.unclaimed not in ("hold", "skip"):
            raise InputError(
                "unclaimed", f'expected "hold" or "skip", got {describe(self.unclaimed)}'
            )
        _integer(self.hold_months, "hold_months", 0)
        self._normalise_infrastructure()
        for name in (
            "exclude_projects",
            "exclude_owners",
            "exclude_ecosystems",
            "first_party_owners",
        ):
            set_(self, name, _names(getattr(self, name), name))
        set_(self, "boosts", _boosts(self.boosts))

    def _normalise_infrastructure(self) -> None:
        set_ = object.__setattr__
        share = as_fraction(self.infrastructure_share, "infrastructure_share")
        if not 0 <= share <= MAX_INFRASTRUCTURE_SHARE:
            raise InputError(
                "infrastructure_share",
                f"expected a fraction ≥ 0 and ≤ {_plain(MAX_INFRASTRUCTURE_SHARE)}, "
                f"got {describe(self.infrastructure_share)}",
            )
        set_(self, "infrastructure_share", share)
        if self.infrastructure_amount is not None:
            _integer(self.infrastructure_amount, "infrastructure_amount", 0)
        infrastructure_cap = as_fraction(self.infrastructure_cap, "infrastructure_cap")
        if not 0 < infrastructure_cap <= 1:
            raise InputError(
                "infrastructure_cap",
                f"expected a fraction > 0 and ≤ 1, got {describe(self.infrastructure_cap)}",
            )
        set_(self, "infrastructure_cap", infrastructure_cap)

    def minimum_for(self, currency: str) -> int:
        """The minimum payout in minor units of ``currency``."""
        return self.minimum if self.minimum is not None else parse_amount(DEFAULT_MINIMUM, currency)

    def infrastructure_part(self, budget: int) -> int:
        """The minor units of ``budget`` set aside for registry stewards (0 when off)."""
        if self.infrastructure_amount is not None:
            return min(self.infrastructure_amount, budget)
        return int(self.infrastructure_share * budget)

    def boost_for(self, key: str) -> Fraction:
        return self.boosts.get(key.casefold(), Fraction(1))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None, currency: str) -> Policy:
        """A policy from JSON-shaped data; amounts are decimal strings in ``currency``.

        Every field is optional. Unknown fields are rejected (a typo must not silently
        fall back to a default). Raises :class:`InputError` naming the field.
        """
        if data is None:
            return cls()
        if not isinstance(data, Mapping):
            raise InputError("policy", f"expected an object, got {describe(data)}")
        unknown = sorted(str(name) for name in data if name not in POLICY_FIELDS)
        if unknown:
            raise InputError(
                unknown[0], f"unknown policy field; expected one of {', '.join(POLICY_FIELDS)}"
            )
        values: dict[str, Any] = {}
        for name, value in data.items():
            if name in ("minimum", "granularity"):
                values[name] = _amount(value, name, currency, positive=name == "granularity")
            elif name == "infrastructure_amount":
                values[name] = (
                    None if value is None else _amount(value, name, currency, positive=False)
                )
            elif name in (
                "decay",
                "risk_alpha",
                "cap",
                "infrastructure_share",
                "infrastructure_cap",
            ):
                # Strings are accepted too ("0.5"), but never true/false or null.
                values[name] = as_fraction(value, name)
            elif name == "boosts":
                if not isinstance(value, Mapping):
                    raise InputError(
                        name, f"expected an object {{project: multiplier}}, got {describe(value)}"
                    )
                values[name] = value
            elif name in (
                "exclude_projects",
                "exclude_owners",
                "exclude_ecosystems",
                "first_party_owners",
            ):
                if not isinstance(value, list):
                    raise InputError(name, f"expected a list of strings, got {describe(value)}")
                values[name] = value
            else:
                values[name] = value
        return cls(**values)

    def to_dict(self, currency: str) -> dict[str, Any]:
        """The policy as JSON-shaped data that :meth:`from_dict` reads back unchanged."""
        return {
            "decay": _plain(self.decay),
            "unknown_depth": self.unknown_depth,
            "risk_alpha": _plain(self.risk_alpha),
            "cap": _plain(self.cap),
            "minimum": format_amount(self.minimum_for(currency), currency),
            "granularity": format_amount(self.granularity, currency),
            "unclaimed": self.unclaimed,
            "hold_months": self.hold_months,
            "exclude_projects": sorted(self.exclude_projects),
            "exclude_owners": sorted(self.exclude_owners),
            "exclude_ecosystems": sorted(self.exclude_ecosystems),
            "boosts": {key: _plain(value) for key, value in self.boosts.items()},
            "first_party_owners": sorted(self.first_party_owners),
            "infrastructure_share": _plain(self.infrastructure_share),
            "infrastructure_amount": (
                None
                if self.infrastructure_amount is None
                else format_amount(self.infrastructure_amount, currency)
            ),
            "infrastructure_cap": _plain(self.infrastructure_cap),
        }


POLICY_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Policy))


def _amount(value: Any, field: str, currency: str, *, positive: bool) -> int:
    # Amounts are strings so that JSON floats never carry money; integers are unambiguous.
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise InputError(field, f'expected a decimal string such as "5.00", got {describe(value)}')
    try:
        minor = parse_amount(value, currency)
    except MoneyError as exc:
        raise InputError(field, str(exc)) from None
    if positive and minor <= 0:
        raise InputError(field, f"expected an amount > 0, got {describe(value)}")
    return minor


def _plain(value: Fraction) -> float | int:
    """A fraction as a JSON number (exact for every value that came from a decimal)."""
    if value.denominator == 1:
        return value.numerator
    as_float = float(value)
    # Not a short decimal (e.g. 1/3 built in Python): the nearest float is the best JSON has.
    return as_float
