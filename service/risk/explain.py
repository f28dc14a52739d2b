"""Turn a risk breakdown into sentences a person understands. Pure, no I/O.

Only signals that push the score up (normalized > 0 and weight > 0) get a sentence, in
the order of the breakdown's contributions (largest first, ties in catalogue order).
A sentence ends with ``(source: X)`` when the signal came with a source.

``context`` (optional) may hold:

- ``products_total``: how many products the company has, so that ``products_using``
  (a fraction) reads "used by 3 of 4 products" rather than "used by 75% of the
  company's products";
- ``sources``: False to leave the sources out.

When the project is a direct dependency (``direct`` true) and ``products_using`` is
known, the two read as one sentence: "used directly by 3 of 4 products".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from service.risk.scoring import RiskScore, SignalContribution
from service.risk.signals import SIGNAL_NAMES

__all__ = ["explain"]

_ORDER = {name: i for i, name in enumerate(SIGNAL_NAMES)}

Line = SignalContribution | Mapping[str, Any]


def _get(line: Line, key: str) -> Any:
    if isinstance(line, Mapping):
        return line.get(key)
    return getattr(line, key, None)


def _num(x: float) -> str:
    """12 -> "12", 1234567.0 -> "1,234,567", 7.25 -> "7.25", 2.5 -> "2.5"."""
    if float(x).is_integer():
        return f"{int(x):,}"
    return f"{x:,.2f}".rstrip("0").rstrip(".")


def _plural(n: float, one: str, many: str) -> str:
    return one if n == 1 else many


def _value(raw: Any) -> float:
    if isinstance(raw, bool):
        return 1.0 if raw else 0.0
    return float(raw)


def _products(fraction: float, direct: bool, total: Any) -> str:
    verb = "used directly by" if direct else "used by"
    if (
        isinstance(total, int | float)
        and not isinstance(total, bool)
        and float(total).is_integer()
        and total >= 1
    ):
        total = int(total)
        k = int(Decimal(repr(fraction * total)).quantize(Decimal(1), rounding=ROUND_HALF_UP))
        if total == 1 and k == 1:
            return f"{verb} the company's only product"
        return f"{verb} {k} of {total} {_plural(total, 'product', 'products')}"
    if fraction >= 1:
        return f"{verb} all of the company's products"
    return f"{verb} {_num(round(fraction * 100, 1))}% of the company's products"


def _sentence(signal: str, raw: Any, normalized: float) -> str:
    if signal == "criticality":
        return f"OpenSSF criticality score {normalized:.2f} (1 = most critical)"
    x = _value(raw)
    match signal:
        case "products_using":
            return _products(x, False, None)
        case "direct":
            return "a direct dependency" if x >= 1 else "a direct dependency of some products"
        case "dependents":
            return f"depended on by {_num(x)} {_plural(x, 'package', 'packages')}"
        case "downloads":
            return f"{_num(x)} {_plural(x, 'download', 'downloads')} a month"
        case "publishers":
            if x < 1:
                return "no one is listed as able to publish it"
            if x == 1:
                return "one person can publish"
            return f"only {_num(x)} people can publish"
        case "active_contributors":
            if x == 0:
                return "no active contributors in the last year"
            if x == 1:
                return "one active contributor in the last year"
            return f"only {_num(x)} active contributors in the last year"
        case "months_since_release":
            return f"no release for {_num(x)} {_plural(x, 'month', 'months')}"
        case "scorecard_maintained":
            return f"OpenSSF Scorecard 'Maintained' {_num(x)}/10"
        case "scorecard_score":
            return f"OpenSSF Scorecard {_num(x)}/10"
        case "advisories":
            return f"{_num(x)} known {_plural(x, 'advisory', 'advisories')} on the version in use"
        case "archived_or_deprecated":
            return "archived or deprecated"
        case "funding_gap":
            if x >= 1:
                return "no funding channel found"
            return f"funding covers only {_num(round((1 - x) * 100, 1))}% of its need"
    return f"{signal}: {raw}"


def explain(
    breakdown: RiskScore | Iterable[Line],
    context: Mapping[str, Any] | None = None,
) -> list[str]:
    """Sentences explaining a score, most important first.

    ``breakdown`` is a :class:`RiskScore`, its ``breakdown``, or the same lines as
    dictionaries (as stored or returned by the API).
    """
    context = context or {}
    lines = list(breakdown.breakdown if isinstance(breakdown, RiskScore) else breakdown)
    with_sources = context.get("sources", True) is not False

    def counts(line: Line) -> bool:
        return (_get(line, "normalized") or 0) > 0 and (_get(line, "weight") or 0) > 0

    shown = [line for line in lines if counts(line)]
    shown.sort(
        key=lambda line: (
            -(_get(line, "contribution") or 0.0),
            _ORDER.get(_get(line, "signal"), len(_ORDER)),
        )
    )
    names = {_get(line, "signal") for line in shown}
    direct_line = next((line for line in shown if _get(line, "signal") == "direct"), None)
    merge_direct = (
        "products_using" in names
        and direct_line is not None
        and _get(direct_line, "normalized") >= 1
    )

    sentences: list[str] = []
    for line in shown:
        signal = _get(line, "signal")
        if signal == "direct" and merge_direct:
            continue
        raw = _get(line, "raw")
        if signal == "products_using":
            text = _products(_value(raw), merge_direct, context.get("products_total"))
        else:
            text = _sentence(signal, raw, _get(line, "normalized"))
        source = _get(line, "source")
        if with_sources and source:
            text = f"{text} (source: {source})"
        sentences.append(text)
    return sentences
