"""The OpenSSF criticality score (Rob Pike's "Quantifying Criticality" algorithm).

As published by ossf/criticality_score (README and the original Python tool)::

    C = (1 / Σ w_i) · Σ w_i · log(1 + S_i) / log(1 + max(S_i, T_i))

(the published formula calls the weights alpha_i)

| input (S_i)            | w_i  |     T_i | meaning                                              |
|------------------------|-----:|--------:|------------------------------------------------------|
| created_since          | 1    |     120 | months since the project was created                 |
| updated_since          | -1   |     120 | months since the project was last updated            |
| contributor_count      | 2    |    5000 | contributors with commits                            |
| org_count              | 1    |      10 | distinct organizations of the contributors           |
| commit_frequency       | 1    |    1000 | average commits per week in the last year            |
| recent_releases_count  | 0.5  |      26 | releases in the last year                            |
| closed_issues_count    | 0.5  |    5000 | issues closed in the last 90 days                    |
| updated_issues_count   | 0.5  |    5000 | issues updated in the last 90 days                   |
| comment_frequency      | 1    |      15 | average comments per issue in the last 90 days       |
| dependents_count       | 2    |  500000 | dependents (originally: mentions in commit messages) |

Details that follow the original tool exactly:

- The divisor is the *signed* sum Σ w_i = 8.5 (``updated_since`` counts as -1), not Σ|w_i|
  = 10.5. The README's own example (kubernetes, published score 0.98514) reproduces only
  with 8.5; with 10.5 it would be 0.79749.
- The result is clamped to 0..1 and rounded to 5 decimals.
- A missing input counts as 0, as the original tool records a value it cannot fetch: it
  adds nothing to the sum while the divisor stays 8.5, so partial inputs under-state
  criticality. (The newer Go tool instead skips missing inputs and turns ``updated_since``
  into a positive "smaller is better" input; we keep the published formula.)
- :func:`criticality` returns None when none of the inputs is given.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from service.risk.signals import InvalidSignalError, json_repr, unwrap

__all__ = [
    "CRITICALITY_INPUTS",
    "CRITICALITY_INPUT_NAMES",
    "CriticalityInput",
    "criticality",
    "criticality_inputs",
    "param_score",
]


@dataclass(frozen=True, slots=True)
class CriticalityInput:
    name: str
    weight: float
    threshold: float
    description: str


CRITICALITY_INPUTS: tuple[CriticalityInput, ...] = (
    CriticalityInput("created_since", 1, 120, "months since the project was created"),
    CriticalityInput("updated_since", -1, 120, "months since the project was last updated"),
    CriticalityInput("contributor_count", 2, 5000, "contributors with commits"),
    CriticalityInput("org_count", 1, 10, "distinct organizations of contributors"),
    CriticalityInput("commit_frequency", 1, 1000, "average commits per week, last year"),
    CriticalityInput("recent_releases_count", 0.5, 26, "releases in the last year"),
    CriticalityInput("closed_issues_count", 0.5, 5000, "issues closed in the last 90 days"),
    CriticalityInput("updated_issues_count", 0.5, 5000, "issues updated in the last 90 days"),
    CriticalityInput("comment_frequency", 1, 15, "average comments per issue, last 90 days"),
    CriticalityInput("dependents_count", 2, 500000, "dependents of the project"),
)
CRITICALITY_INPUT_NAMES: tuple[str, ...] = tuple(i.name for i in CRITICALITY_INPUTS)
_TOTAL_WEIGHT = math.fsum(i.weight for i in CRITICALITY_INPUTS)  # 8.5, signed as published


def param_score(value: float, threshold: float) -> float:
    """``log(1+S) / log(1+max(S, T))`` for one input (before its weight)."""
    return math.log1p(value) / math.log1p(max(value, threshold))


def criticality_inputs(signals: Mapping[str, Any], prefix: str = "") -> dict[str, float]:
    """The criticality inputs present in ``signals`` (others ignored), validated.

    Values may be plain numbers or ``{"value": v, ...}``; None means missing. ``prefix``
    is prepended to field names in errors (e.g. ``"signals."``).
    """
    found: dict[str, float] = {}
    for spec in CRITICALITY_INPUTS:
        if spec.name not in signals:
            continue
        field = f"{prefix}{spec.name}"
        value = unwrap(signals[spec.name], field).value
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidSignalError(field, f"expected a number, got {json_repr(value)}")
        if not math.isfinite(value) or value < 0:
            raise InvalidSignalError(field, f"expected a finite number >= 0, got {value!r}")
        found[spec.name] = float(value)
    return found


def criticality(signals: Mapping[str, Any]) -> float | None:
    """The OpenSSF criticality score (0..1, 5 decimals), or None without any input.

    Keys of ``signals`` that are not criticality inputs are ignored, so the whole signal
    mapping of a project can be passed. Raises :class:`InvalidSignalError` for negative
    or non-numeric inputs.
    """
    given = criticality_inputs(signals)
    if not given:
        return None
    total = math.fsum(
        spec.weight * param_score(given.get(spec.name, 0.0), spec.threshold)
        for spec in CRITICALITY_INPUTS
    )
    return round(min(1.0, max(0.0, total / _TOTAL_WEIGHT)), 5)
