"""The catalogue of risk signals: names, meaning, default weights and normalization.

Every signal is normalized to 0..1 where 1 means "riskier", i.e. more urgent to fund.
"Counts use log normalization" means ``min(1, ln(1+x) / ln(1+T))`` with threshold ``T``,
as in the OpenSSF criticality score.

| name                   | weight | input                                   | normalization  |
|------------------------|-------:|-----------------------------------------|----------------|
| products_using         |     15 | fraction 0..1 of the company's products | identity       |
| direct                 |      5 | bool (or 0..1)                          | true -> 1      |
| dependents             |     10 | count of ecosystem dependents           | log, T=10,000  |
| downloads              |      5 | downloads per month                     | log, T=10**7   |
| publishers             |     15 | people who can publish                  | 1 / max(n, 1)  |
| active_contributors    |     10 | contributors active in the last year    | 1 - log, T=10  |
| months_since_release   |     10 | months since the latest release         | min(1, x/24)   |
| scorecard_maintained   |     10 | Scorecard "Maintained" check, 0..10     | 1 - x/10       |
| scorecard_score        |      5 | Scorecard overall score, 0..10          | 1 - x/10       |
| advisories             |      5 | known advisories on the version in use  | log, T=5       |
| archived_or_deprecated |      5 | bool (or 0..1)                          | true -> 1      |
| funding_gap            |      5 | bool, or 0..1 share of need unfunded    | true -> 1      |
| criticality            |     10 | OpenSSF criticality score, 0..1         | identity       |

Why each direction and threshold (one line each):

- products_using: the more of the company's products use it, the more the company loses
  if it fails; a fraction (used by k of n products -> k/n) so one product out of one is
  full reliance.
- direct: a direct dependency is one the company chose and calls itself, so losing it
  hurts more than losing a transitive one.
- dependents: more dependents = more of the ecosystem rests on it; 10,000 dependent
  packages makes a project ecosystem infrastructure.
- downloads: more downloads = more critical; 10 million a month is top-tier usage.
- publishers: one person who can publish is a single point of failure (and of
  compromise); 1/n halves the risk with each extra publisher; zero is treated as one.
- active_contributors: fewer active people = lower bus factor = riskier; ten active
  contributors is a healthy project, zero is abandoned.
- months_since_release: longer without a release = riskier; risk grows steadily and
  saturates at two years (a duration, not a count, so linear rather than log).
- scorecard_maintained / scorecard_score: Scorecard's 0..10 scale where higher is better,
  so it is inverted. The Scorecard weight 15 is split 10 / 5: "Maintained" speaks directly
  to maintenance capacity (what funding fixes), the overall score mostly to security
  practices. Scorecard's -1 ("inconclusive") counts as no data.
- advisories: known advisories on the version in use signal a project short of
  maintenance time; five saturates.
- archived_or_deprecated: an archived or deprecated project in use is urgent.
- funding_gap: 1 (or true) = no funding channel at all; a number is the share of the
  project's stated need that is not funded (0 = fully funded).
- criticality: the OpenSSF criticality score (see ``criticality.py``), higher = more
  critical = more urgent; present only when at least one of its inputs (or a
  precomputed ``criticality`` value) is given.

A signal value may be given plain (``12``, ``true``) or with provenance
(``{"value": 12, "source": "deps.dev", "fetched_at": "2024-05-01T00:00:00Z"}``);
``None`` (or ``{"value": None}``) means "no data".
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

__all__ = [
    "CATALOGUE",
    "CRITICALITY",
    "DEFAULT_WEIGHTS",
    "SIGNAL_NAMES",
    "InvalidSignalError",
    "SignalSpec",
    "SignalValue",
    "json_repr",
    "log_norm",
    "unwrap",
    "validate",
]

#: Value kinds accepted by the catalogue, used for validation.
Kind = Literal["count", "months", "fraction", "flag", "scorecard"]


class InvalidSignalError(ValueError):
    """A signal or weight that cannot be used, naming the offending ``field``."""

    def __init__(self, field: str, message: str, **details: Any) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = f"{field}: {message}"
        self.details: dict[str, Any] = {"field": field, **details}


def log_norm(x: float, threshold: float) -> float:
    """``min(1, ln(1+x)/ln(1+T))`` — the OpenSSF criticality normalization for counts."""
    return min(1.0, math.log1p(x) / math.log1p(threshold))


@dataclass(frozen=True, slots=True)
class SignalSpec:
    """One Tributary risk signal."""

    name: str
    description: str
    weight: float
    kind: Kind
    normalization: str
    direction: str
    unit: str
    threshold: float | None
    _normalize: Callable[[float], float]

    def normalize(self, value: float) -> float:
        """Map a validated raw value to 0..1 (1 = riskier)."""
        return min(1.0, max(0.0, self._normalize(value)))


@dataclass(frozen=True, slots=True)
class SignalValue:
    """A raw signal value with its provenance (``source``/``fetched_at`` may be None)."""

    value: Any
    source: str | None = None
    fetched_at: str | None = None


def unwrap(raw: Any, field: str) -> SignalValue:
    """Accept ``v`` or ``{"value": v, "source": ..., "fetched_at": ...}``."""
    if isinstance(raw, SignalValue):
        return raw
    if isinstance(raw, Mapping):
        if "value" not in raw:
            raise InvalidSignalError(
                field, 'expected a value or an object with a "value" key, got an object without one'
            )
        source = raw.get("source")
        fetched_at = raw.get("fetched_at")
        if source is not None and not isinstance(source, str):
            raise InvalidSignalError(f"{field}.source", "expected a string")
        if fetched_at is not None and not isinstance(fetched_at, str):
            raise InvalidSignalError(f"{field}.fetched_at", "expected a string")
        return SignalValue(raw["value"], source, fetched_at)
    return SignalValue(raw)


def _as_number(value: Any, field: str, *, allow_bool: bool) -> float:
    if isinstance(value, bool):
        if allow_bool:
            return 1.0 if value else 0.0
        raise InvalidSignalError(field, f"expected a number, got {json_repr(value)}")
    if not isinstance(value, int | float):
        raise InvalidSignalError(field, f"expected a number, got {json_repr(value)}")
    number = float(value)
    if not math.isfinite(number):
        raise InvalidSignalError(field, f"expected a finite number, got {value!r}")
    return number


def json_repr(value: Any) -> str:
    """How a value looks to someone who wrote it in JSON (for error messages)."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return f'the string "{value}"'
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return repr(value)


def validate(spec: SignalSpec, value: Any, field: str) -> float | None:
    """Check a raw (unwrapped, non-None) value for ``spec``; return it as a number.

    Returns None for values that mean "no data" (Scorecard's -1).
    """
    kind = spec.kind
    number = _as_number(value, field, allow_bool=kind == "flag")
    if kind in ("count", "months"):
        if number < 0:
            raise InvalidSignalError(field, f"expected a number >= 0, got {value!r}")
    elif kind in ("fraction", "flag"):
        if not 0 <= number <= 1:
            expected = "true/false or a number from 0 to 1" if kind == "flag" else "0 to 1"
            raise InvalidSignalError(field, f"expected {expected}, got {value!r}")
    elif kind == "scorecard":
        if number == -1:
            return None
        if not 0 <= number <= 10:
            raise InvalidSignalError(
                field, f"expected a Scorecard score from 0 to 10 (or -1), got {value!r}"
            )
    return number


_DEPENDENTS_T = 10_000
_DOWNLOADS_T = 10_000_000
_CONTRIBUTORS_T = 10
_RELEASE_MONTHS_T = 24
_ADVISORIES_T = 5

CRITICALITY = "criticality"

#: The catalogue, in its canonical order (used for ties and display).
CATALOGUE: Mapping[str, SignalSpec] = {
    s.name: s
    for s in (
        SignalSpec(
            "products_using",
            "share of the company's products that use the project (k of n -> k/n)",
            15,
            "fraction",
            "identity",
            "more products -> riskier",
            "fraction of products",
            None,
            lambda x: x,
        ),
        SignalSpec(
            "direct",
            "a direct dependency (true) rather than only transitive (false)",
            5,
            "flag",
            "true -> 1, false -> 0",
            "direct -> riskier",
            "bool",
            None,
            lambda x: x,
        ),
        SignalSpec(
            "dependents",
            "packages in the ecosystem that depend on the project",
            10,
            "count",
            f"log, T={_DEPENDENTS_T}",
            "more -> riskier",
            "packages",
            _DEPENDENTS_T,
            lambda x: log_norm(x, _DEPENDENTS_T),
        ),
        SignalSpec(
            "downloads",
            "downloads per month from its registry",
            5,
            "count",
            f"log, T={_DOWNLOADS_T}",
            "more -> riskier",
            "downloads/month",
            _DOWNLOADS_T,
            lambda x: log_norm(x, _DOWNLOADS_T),
        ),
        SignalSpec(
            "publishers",
            "people who can publish a release to the registry",
            15,
            "count",
            "1 / max(n, 1)",
            "fewer -> riskier",
            "people",
            None,
            lambda x: 1.0 / max(x, 1.0),
        ),
        SignalSpec(
            "active_contributors",
            "people who contributed in the last 12 months (bus factor)",
            10,
            "count",
            f"1 - log, T={_CONTRIBUTORS_T}",
            "fewer -> riskier",
            "people",
            _CONTRIBUTORS_T,
            lambda x: 1.0 - log_norm(x, _CONTRIBUTORS_T),
        ),
        SignalSpec(
            "months_since_release",
            "months since the latest release",
            10,
            "months",
            f"linear, min(1, x/{_RELEASE_MONTHS_T})",
            "longer -> riskier",
            "months",
            _RELEASE_MONTHS_T,
            lambda x: x / _RELEASE_MONTHS_T,
        ),
        SignalSpec(
            "scorecard_maintained",
            "OpenSSF Scorecard 'Maintained' check (0..10, -1 = no data)",
            10,
            "scorecard",
            "1 - x/10",
            "lower -> riskier",
            "score /10",
            10,
            lambda x: 1.0 - x / 10.0,
        ),
        SignalSpec(
            "scorecard_score",
            "OpenSSF Scorecard overall score (0..10)",
            5,
            "scorecard",
            "1 - x/10",
            "lower -> riskier",
            "score /10",
            10,
            lambda x: 1.0 - x / 10.0,
        ),
        SignalSpec(
            "advisories",
            "known security advisories affecting the version in use",
            5,
            "count",
            f"log, T={_ADVISORIES_T}",
            "more -> riskier",
            "advisories",
            _ADVISORIES_T,
            lambda x: log_norm(x, _ADVISORIES_T),
        ),
        SignalSpec(
            "archived_or_deprecated",
            "the repository is archived or the package deprecated",
            5,
            "flag",
            "true -> 1, false -> 0",
            "true -> riskier",
            "bool",
            None,
            lambda x: x,
        ),
        SignalSpec(
            "funding_gap",
            "true/1 = no funding channel; else the share of stated need not funded",
            5,
            "flag",
            "true -> 1, else identity",
            "bigger gap -> riskier",
            "fraction of need",
            None,
            lambda x: x,
        ),
        SignalSpec(
            CRITICALITY,
            "OpenSSF criticality score (computed from its inputs, or given)",
            10,
            "fraction",
            "identity",
            "more critical -> riskier",
            "score 0..1",
            None,
            lambda x: x,
        ),
    )
}

SIGNAL_NAMES: tuple[str, ...] = tuple(CATALOGUE)
DEFAULT_WEIGHTS: Mapping[str, float] = {name: float(s.weight) for name, s in CATALOGUE.items()}
