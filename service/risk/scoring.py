"""The risk score of a project: 0..100, higher = more urgent to fund. Pure, no I/O.

``score = Σ n_i·w_i / Σ w_i · 100`` over the signals that have data, where ``n_i`` is the
signal normalized to 0..1 (1 = riskier, see ``signals.py``) and ``w_i`` its weight.
Missing signals change ``coverage`` (the share of the total weight that had data), never
the scale: a project with few signals is still scored 0..100 over what is known.

Published values, all deterministic (signals are processed in catalogue order, whatever
the order of the input mapping):

- ``normalized``: rounded to 4 decimals; contributions are computed from these
  published values, so the score can be recomputed from the breakdown.
- ``contribution`` = normalized·weight / Σ weights-with-data · 100, in tenths of a point.
  Contributions are rounded by the largest-remainder method so that they add up
  *exactly* to ``score`` (ties go to the signal earlier in the catalogue).
- ``score``: rounded half-up to 1 decimal; None when no signal with a positive weight
  has data (coverage 0) — callers pick their own default (50 is neutral for allocation).
- ``coverage``: 0..1, 4 decimals. The total weight includes every catalogue signal, also
  ``criticality``.
- ``criticality``: the OpenSSF criticality score (5 decimals) or None. It is computed
  from its own inputs (named exactly as OpenSSF names them, e.g. ``contributor_count``)
  and enters the breakdown as one ``criticality`` line whose ``raw`` is the mapping of the
  inputs that were given. A precomputed score may be given as ``criticality`` instead
  (not both).
- ``breakdown``: only the signals with data, by contribution (largest first), ties in
  catalogue order. ``missing`` lists the catalogue signals without data.

Weights: a policy may override any subset of the catalogue weights (the rest keep their
defaults); weights are finite numbers >= 0. Unknown names are rejected, as are weights
for the individual criticality inputs (their weights are fixed by the OpenSSF formula —
weight ``criticality`` instead).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from service.risk.criticality import (
    CRITICALITY_INPUT_NAMES,
    criticality,
    criticality_inputs,
)
from service.risk.signals import (
    CATALOGUE,
    CRITICALITY,
    DEFAULT_WEIGHTS,
    SIGNAL_NAMES,
    InvalidSignalError,
    SignalValue,
    json_repr,
    unwrap,
    validate,
)

__all__ = [
    "KNOWN_SIGNALS",
    "RiskScore",
    "SignalContribution",
    "SignalInput",
    "resolve_weights",
    "score",
]

#: A signal value: plain, ``{"value": v, "source": ..., "fetched_at": ...}``, or None.
SignalInput = float | int | bool | None | Mapping[str, Any] | SignalValue

#: Every name accepted in ``signals``: Tributary's signals, then the criticality inputs.
KNOWN_SIGNALS: tuple[str, ...] = SIGNAL_NAMES + CRITICALITY_INPUT_NAMES

_ORDER = {name: i for i, name in enumerate(SIGNAL_NAMES)}


@dataclass(frozen=True, slots=True)
class SignalContribution:
    """One line of the breakdown."""

    signal: str
    raw: Any
    normalized: float
    weight: float
    contribution: float
    source: str | None = None
    fetched_at: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "signal": self.signal,
            "raw": self.raw,
            "normalized": self.normalized,
            "weight": self.weight,
            "contribution": self.contribution,
            "source": self.source,
        }


@dataclass(frozen=True, slots=True)
class RiskScore:
    """A project's risk score with its breakdown."""

    score: float | None
    coverage: float
    criticality: float | None
    breakdown: tuple[SignalContribution, ...]
    missing: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "coverage": self.coverage,
            "criticality": self.criticality,
            "breakdown": [line.to_dict() for line in self.breakdown],
        }


def _round_half_up(x: float, places: int) -> float:
    return float(Decimal(repr(x)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def _unknown(names: Iterable[str], prefix: str, what: str) -> None:
    unknown = sorted(n for n in names if n not in KNOWN_SIGNALS)
    if unknown:
        fields = [f"{prefix}{n}" for n in unknown]
        plural = "s" if len(unknown) > 1 else ""
        raise InvalidSignalError(
            fields[0],
            f"unknown {what}{plural} {', '.join(repr(n) for n in unknown)}; "
            f"known signals are: {', '.join(KNOWN_SIGNALS)}",
            fields=fields,
        )


def resolve_weights(weights: Mapping[str, Any] | None = None) -> dict[str, float]:
    """The default weights with ``weights`` applied on top, validated."""
    resolved = dict(DEFAULT_WEIGHTS)
    if weights is None:
        return resolved
    if not isinstance(weights, Mapping):
        raise InvalidSignalError("weights", f"expected an object, got {json_repr(weights)}")
    _unknown(weights, "weights.", "signal")
    for name in sorted(weights):
        field = f"weights.{name}"
        if name in CRITICALITY_INPUT_NAMES:
            raise InvalidSignalError(
                field,
                "OpenSSF criticality inputs have fixed weights; set weights.criticality instead",
            )
        w = weights[name]
        if isinstance(w, bool) or not isinstance(w, int | float):
            raise InvalidSignalError(field, f"expected a number, got {json_repr(w)}")
        if not math.isfinite(w) or w < 0:
            raise InvalidSignalError(field, f"expected a finite number >= 0, got {w!r}")
        resolved[name] = float(w)
    return resolved


def _common(values: Iterable[str | None]) -> str | None:
    distinct = sorted({v for v in values if v is not None})
    return distinct[0] if len(distinct) == 1 else None


def _criticality_line(
    signals: Mapping[str, Any],
) -> tuple[float, Any, str | None, str | None] | None:
    """(score, raw, source, fetched_at) for the criticality signal, or None."""
    given = criticality_inputs(signals, prefix="signals.")
    direct: SignalValue | None = None
    if CRITICALITY in signals:
        direct = unwrap(signals[CRITICALITY], f"signals.{CRITICALITY}")
        if direct.value is None:
            direct = None
    if direct is not None and given:
        raise InvalidSignalError(
            f"signals.{CRITICALITY}",
            "give either the criticality score or its inputs "
            f"({', '.join(sorted(given))}), not both",
        )
    if direct is not None:
        field = f"signals.{CRITICALITY}"
        number = validate(CATALOGUE[CRITICALITY], direct.value, field)
        assert number is not None
        return number, direct.value, direct.source, direct.fetched_at
    if not given:
        return None
    value = criticality(given)
    assert value is not None
    wrapped = {name: unwrap(signals[name], name) for name in given}
    sources = sorted({w.source for w in wrapped.values() if w.source is not None})
    return (
        value,
        {name: w.value for name, w in wrapped.items()},
        ", ".join(sources) or None,
        _common(w.fetched_at for w in wrapped.values()),
    )


def score(
    signals: Mapping[str, SignalInput],
    weights: Mapping[str, float] | None = None,
) -> RiskScore:
    """Score one project from its signals; see the module docstring for the rules.

    Raises :class:`~service.risk.signals.InvalidSignalError` (a ValueError with ``field``,
    e.g. ``"signals.foo"``) for unknown names, values of the wrong type or range, and
    invalid weights.
    """
    if not isinstance(signals, Mapping):
        raise InvalidSignalError("signals", f"expected an object, got {json_repr(signals)}")
    bad_keys = [k for k in signals if not isinstance(k, str)]
    if bad_keys:
        raise InvalidSignalError("signals", f"signal names must be strings, got {bad_keys[0]!r}")
    _unknown(signals, "signals.", "signal")
    effective = resolve_weights(weights)
    present, crit = _present(signals)

    total_weight = math.fsum(effective.values())
    with_data = math.fsum(effective[name] for name, *_ in present)
    coverage = _round_half_up(with_data / total_weight, 4) if total_weight > 0 else 0.0
    have = {name for name, *_ in present}
    missing = tuple(n for n in SIGNAL_NAMES if n not in have and effective[n] > 0)

    exact = [
        normalized * effective[name] / with_data * 100 if with_data > 0 else 0.0
        for name, _, normalized, _, _ in present
    ]
    final, contributions = _rounded(exact) if with_data > 0 else (None, [0.0] * len(present))
    order = sorted(range(len(present)), key=lambda i: (-exact[i], _ORDER[present[i][0]]))
    breakdown = tuple(
        SignalContribution(
            signal=present[i][0],
            raw=present[i][1],
            normalized=present[i][2],
            weight=effective[present[i][0]],
            contribution=contributions[i],
            source=present[i][3],
            fetched_at=present[i][4],
        )
        for i in order
    )
    return RiskScore(
        score=final, coverage=coverage, criticality=crit, breakdown=breakdown, missing=missing
    )


# (name, raw, normalized, source, fetched_at) of a signal with data.
_Present = tuple[str, Any, float, str | None, str | None]


def _present(signals: Mapping[str, SignalInput]) -> tuple[list[_Present], float | None]:
    """Every signal with data, in catalogue order, validated and normalized; and the
    criticality, when known (it may come from its inputs)."""
    present: list[_Present] = []
    crit: float | None = None
    for name, spec in CATALOGUE.items():
        if name == CRITICALITY:
            line = _criticality_line(signals)
            if line is not None:
                value, raw, source, fetched_at = line
                crit = value
                present.append((name, raw, round(spec.normalize(value), 4), source, fetched_at))
            continue
        if name not in signals:
            continue
        field = f"signals.{name}"
        wrapped = unwrap(signals[name], field)
        if wrapped.value is None:
            continue
        number = validate(spec, wrapped.value, field)
        if number is None:
            continue
        normalized = round(spec.normalize(number), 4)
        present.append((name, wrapped.value, normalized, wrapped.source, wrapped.fetched_at))
    return present, crit


def _rounded(exact: list[float]) -> tuple[float, list[float]]:
    """The score to a tenth, and the contributions in tenths that add up to it."""
    total = _round_half_up(math.fsum(exact), 1)
    tenths = _largest_remainder([e * 10 for e in exact], round(total * 10))
    return total, [t / 10 for t in tenths]


def _largest_remainder(scaled: list[float], target: int) -> list[int]:
    """Integers near ``scaled`` summing to ``target``; extra units go to the largest
    fractional parts, ties to the earlier index (catalogue order)."""
    floors = [math.floor(x) for x in scaled]
    remainder = target - sum(floors)
    ranked = sorted(range(len(scaled)), key=lambda i: (-(scaled[i] - floors[i]), i))
    # 0 <= remainder <= number of non-integral values, by construction of ``target``.
    for i in ranked[: max(0, remainder)]:
        floors[i] += 1
    return floors
