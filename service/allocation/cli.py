"""``tributary allocate``: split a budget from a JSON file, without a database.

Input (a file, or ``-`` for stdin)::

    {"budget": {"amount": "1000.00", "currency": "USD"},
     "policy": {"cap": 0.1, "minimum": "5.00", "granularity": "1.00", ...},   # optional
     "projects": [{"key": "github.com/o/r",
                   "products": [{"name": "web", "depth": 1}, {"name": "api", "depth": null}],
                   "risk": 55, "claimed": true, "first_party": false, "excluded": false,
                   "boost": 1.0, "owner": "o", "ecosystem": "npm", "months_held": 0,
                   "override": "250.00", "override_note": "...", "pin_minimum": "50.00"}]}

Amounts are decimal strings in the budget currency. Every project field but ``key`` is
optional (``claimed`` defaults to false: a project is paid only once someone can receive
the money). Unknown fields are rejected so that a typo never silently means a default.

``--json`` prints ``{"lines": [{"project", "amount", "share", "weight", "reason"}],
"remainder", "held": [{"project", "amount"}], "currency"}``; otherwise a table. Bad input
exits with status 1 and prints ``{"error": {"code": "invalid_input", "message",
"details": {"field"}}}`` on stdout, the field written like ``projects[2].products[0].depth``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import click

from service.allocation.engine import (
    MAX_DEPTH,
    AllocationError,
    Candidate,
    HeldEntry,
    Line,
    ProductUse,
    Proposal,
    allocate,
)
from service.allocation.policy import Policy
from service.core.cli_input import fail, parse_json, read_text
from service.core.collector import collector_paused
from service.money import Money, MoneyError, format_amount, normalize_currency, parse_amount
from service.numbers import InputError, as_fraction, describe

__all__ = ["AllocationRequest", "allocate_command", "parse_request", "proposal_to_json"]

_TOP_LEVEL = ("budget", "policy", "projects")
_BUDGET = ("amount", "currency")
_PROJECT = (
    "key",
    "products",
    "risk",
    "claimed",
    "first_party",
    "excluded",
    "boost",
    "owner",
    "ecosystem",
    "override",
    "override_note",
    "pin_minimum",
    "months_held",
)
_PRODUCT = ("name", "depth")
_KNOWN = {fields: frozenset(fields) for fields in (_TOP_LEVEL, _BUDGET, _PROJECT, _PRODUCT)}
_PROJECT_KEYS, _PRODUCT_KEYS = _KNOWN[_PROJECT], _KNOWN[_PRODUCT]


@dataclass(frozen=True)
class AllocationRequest:
    """A parsed, validated input document."""

    budget: Money
    policy: Policy
    candidates: tuple[Candidate, ...]


def parse_request(document: Any) -> AllocationRequest:
    """Validate a JSON document; raises :class:`InputError` naming the first bad field."""
    if not isinstance(document, Mapping):
        raise InputError(
            "input",
            f'expected an object {{"budget": ..., "projects": [...]}}, got {describe(document)}',
        )
    _no_unknown(document, _TOP_LEVEL, "")
    budget = _budget(document.get("budget"))
    try:
        policy = Policy.from_dict(document.get("policy"), budget.currency)
    except InputError as exc:
        if exc.field == "policy":
            raise
        raise exc.within("policy") from None
    if "projects" not in document:
        raise InputError("projects", "missing; expected a list of projects (it may be empty)")
    projects = document["projects"]
    if not isinstance(projects, list):
        raise InputError("projects", f"expected a list, got {describe(projects)}")
    candidates = []
    seen: dict[str, int] = {}
    # Projects share a handful of (product, depth) uses: one frozen value for each.
    shared: dict[tuple[str, int | None], ProductUse] = {}
    for index, item in enumerate(projects):
        candidate = _project(item, f"projects[{index}]", budget.currency, shared)
        folded = candidate.key.casefold()
        if folded in seen:
            raise InputError(
                f"projects[{index}].key",
                f"duplicate project {candidate.key} (also projects[{seen[folded]}])",
            )
        seen[folded] = index
        candidates.append(candidate)
    return AllocationRequest(budget, policy, tuple(candidates))


def proposal_to_json(proposal: Proposal) -> dict[str, Any]:
    """The proposal in the CLI's (and the API's) JSON shape; amounts as decimal strings."""
    currency = proposal.currency
    return {
        "lines": [
            {
                "project": line.project,
                "amount": format_amount(line.amount, currency),
                "share": line.share,
                "weight": line.weight,
                "reason": line.reason,
            }
            for line in proposal.lines
        ],
        "remainder": format_amount(proposal.remainder, currency),
        "held": [
            {"project": entry.project, "amount": format_amount(entry.amount, currency)}
            for entry in proposal.held
        ],
        "currency": currency,
    }


@click.command(name="allocate")
@click.option(
    "--input",
    "input_path",
    required=True,
    metavar="FILE",
    help='JSON file {"budget": ..., "policy": ..., "projects": [...]}; "-" reads stdin.',
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def allocate_command(input_path: str, as_json: bool) -> None:
    """Propose this month's split of a budget over the projects in FILE."""
    with collector_paused():  # the document and the candidates: millions of objects
        document = parse_json(read_text(input_path))
        try:
            request = parse_request(document)
        except InputError as exc:
            fail(str(exc), {"field": exc.field})
    try:
        proposal = allocate(request.candidates, request.budget, request.policy)
    except AllocationError as exc:
        field = _field_of(exc, request)
        fail(f"{field}: {exc.message}", {"field": field})
    if as_json:
        click.echo(json.dumps(proposal_to_json(proposal), ensure_ascii=False))
    else:
        click.echo(_table(proposal))


# --- reading -------------------------------------------------------------------------


def _no_unknown(data: Mapping[str, Any], known: tuple[str, ...], where: str) -> None:
    if type(data) is dict and data.keys() <= _KNOWN.get(known, known):
        return  # nothing unknown (nearly always): a set comparison at C speed
    unknown = sorted(str(name) for name in data if name not in known)
    if unknown:
        field = f"{where}.{unknown[0]}" if where else unknown[0]
        raise InputError(field, f"unknown field; expected {', '.join(known)}")


def _budget(value: Any) -> Money:
    if value is None:
        raise InputError("budget", 'missing; expected {"amount": "1000.00", "currency": "USD"}')
    if not isinstance(value, Mapping):
        raise InputError(
            "budget", f'expected {{"amount": "1000.00", "currency": "USD"}}, got {describe(value)}'
        )
    _no_unknown(value, _BUDGET, "budget")
    currency = value.get("currency")
    if not isinstance(currency, str):
        raise InputError(
            "budget.currency", f"expected an ISO 4217 code such as USD, got {describe(currency)}"
        )
    try:
        code = normalize_currency(currency)
    except MoneyError as exc:
        raise InputError("budget.currency", str(exc)) from None
    if "amount" not in value:
        raise InputError("budget.amount", 'missing; expected a decimal string such as "1000.00"')
    return Money(_amount(value["amount"], "budget.amount", code), code)


def _amount(value: Any, field: str, currency: str) -> int:
    # Floats never carry money: "12.30" or an integer only.
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise InputError(field, f'expected a decimal string such as "12.50", got {describe(value)}')
    try:
        return parse_amount(value, currency)
    except MoneyError as exc:
        raise InputError(field, str(exc)) from None


def _project(
    item: Any, where: str, currency: str, shared: dict[tuple[str, int | None], ProductUse]
) -> Candidate:
    if type(item) is not dict or not item.keys() <= _PROJECT_KEYS:  # the common case, at once
        if not isinstance(item, Mapping):
            raise InputError(
                where, f'expected an object {{"key": "github.com/o/r", ...}}, got {describe(item)}'
            )
        _no_unknown(item, _PROJECT, where)
    key = item.get("key")
    if not isinstance(key, str) or not key.strip():
        raise InputError(
            f"{where}.key", f'expected a project key such as "github.com/o/r", got {describe(key)}'
        )
    products = item.get("products", [])
    if not isinstance(products, list):
        raise InputError(f"{where}.products", f"expected a list, got {describe(products)}")
    uses = _uses(products, where, shared)
    risk = item.get("risk")
    if risk is not None:
        if isinstance(risk, bool) or not isinstance(risk, int | float) or not 0 <= risk <= 100:
            raise InputError(
                f"{where}.risk", f"expected a number from 0 to 100 or null, got {describe(risk)}"
            )
        risk = _number(risk, where, "risk")
    boost = item.get("boost", 1)
    if isinstance(boost, bool) or not isinstance(boost, int | float) or not boost > 0:
        raise InputError(f"{where}.boost", f"expected a number > 0, got {describe(boost)}")
    months = item.get("months_held", 0)
    if isinstance(months, bool) or not isinstance(months, int) or months < 0:
        raise InputError(f"{where}.months_held", f"expected an integer ≥ 0, got {describe(months)}")
    override, pin = item.get("override"), item.get("pin_minimum")
    if override is not None:
        override = _amount(override, f"{where}.override", currency)
    if pin is not None:
        pin = _amount(pin, f"{where}.pin_minimum", currency)
    return Candidate(
        key=key.strip(),
        uses=uses,
        risk=risk,
        claimed=_flag(item, "claimed", where),
        first_party=_flag(item, "first_party", where),
        excluded=_flag(item, "excluded", where),
        boost=_number(boost, where, "boost"),
        owner=_text(item, "owner", where),
        ecosystem=_text(item, "ecosystem", where),
        override=override,
        override_note=_text(item, "override_note", where),
        pin_minimum=pin,
        months_held=months,
    )


def _uses(
    products: list[Any], project: str, shared: dict[tuple[str, int | None], ProductUse]
) -> tuple[ProductUse, ...]:
    """The uses `products` (of `project`) states; `shared` holds one value per use seen."""
    uses = []
    for index, entry in enumerate(products):
        # The common case, checked at once: {"name": ..., "depth": ...} seen before (the
        # exact types first: true and 1.0 equal 1, and a list cannot be looked up).
        if type(entry) is dict and entry.keys() <= _PRODUCT_KEYS:
            name, depth = entry.get("name"), entry.get("depth")
            if type(name) is str and (depth is None or type(depth) is int):
                use = shared.get((name, depth))
                if use is not None:
                    uses.append(use)
                    continue
        uses.append(_product(entry, f"{project}.products[{index}]", shared))
    return tuple(uses)


def _product(
    entry: Any, where: str, shared: dict[tuple[str, int | None], ProductUse]
) -> ProductUse:
    """The use `entry` (at `where`) states, checked, and kept in `shared` for the next."""
    use = _checked_product(entry, where)
    depth = entry.get("depth")
    if type(entry) is dict and (depth is None or type(depth) is int):
        shared.setdefault((entry["name"], depth), use)
    return use


def _checked_product(entry: Any, where: str) -> ProductUse:
    if not isinstance(entry, Mapping):
        raise InputError(
            where, f'expected an object {{"name": "web", "depth": 1}}, got {describe(entry)}'
        )
    _no_unknown(entry, _PRODUCT, where)
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip():
        raise InputError(f"{where}.name", f"expected a product name, got {describe(name)}")
    depth = entry.get("depth")
    if depth is not None and (isinstance(depth, bool) or not isinstance(depth, int) or depth < 1):
        raise InputError(
            f"{where}.depth", f"expected an integer ≥ 1 or null, got {describe(depth)}"
        )
    if depth is not None and depth > MAX_DEPTH:
        raise InputError(
            f"{where}.depth", f"{depth} is deeper than {MAX_DEPTH}; check the dependency graph"
        )
    return ProductUse(name.strip(), depth)


def _number(value: int | float, where: str, name: str) -> Fraction:
    """A number checked for its range as a Fraction (an infinite float is refused here)."""
    try:
        return as_fraction(value, name)  # the field is named only for an error
    except InputError as exc:
        raise exc.within(where) from None


def _flag(item: Mapping[str, Any], name: str, where: str) -> bool:
    value = item.get(name, False)
    if not isinstance(value, bool):
        raise InputError(f"{where}.{name}", f"expected true or false, got {describe(value)}")
    return value


def _text(item: Mapping[str, Any], name: str, where: str) -> str | None:
    value = item.get(name)
    if value is not None and not isinstance(value, str):
        raise InputError(f"{where}.{name}", f"expected a string or null, got {describe(value)}")
    return value or None


def _field_of(error: AllocationError, request: AllocationRequest) -> str:
    """Where an engine error points in the input document."""
    if error.project is not None:
        for index, candidate in enumerate(request.candidates):
            if candidate.key == error.project:
                return f"projects[{index}].{error.field or 'key'}"
    if error.field in ("budget", "currency"):
        return "budget.amount" if error.field == "budget" else "budget.currency"
    return "input"


# --- the table -----------------------------------------------------------------------


def _cells(entry: Line | HeldEntry, currency: str) -> tuple[str, str, str, str, str]:
    """(project, amount, share, weight, reason) of a paid or held line, as shown."""
    amount = format_amount(entry.amount, currency)
    return entry.project, amount, f"{entry.share:.2%}", f"{entry.weight:g}", entry.reason


def _table(proposal: Proposal) -> str:
    currency = proposal.currency
    total = format_amount(proposal.budget, currency)
    out = [
        f"Allocation of {total} {currency}: {len(proposal.lines)} line(s), "
        f"{len(proposal.held)} held, remainder {format_amount(proposal.remainder, currency)}",
    ]
    if proposal.cap is not None:
        cap = format_amount(proposal.cap, currency)
        relaxed = " (relaxed: too few projects)" if proposal.cap_relaxed else ""
        out.append(
            f"Cap per line {cap}{relaxed}; minimum {format_amount(proposal.minimum, currency)}"
        )
    rows = [_cells(line, currency) for line in proposal.lines]
    held = [_cells(entry, currency) for entry in proposal.held]
    header = ("project", "amount", "share", "weight")
    widths = [max(len(row[i]) for row in [header, *rows, *held]) for i in range(len(header))]

    def fmt(row: tuple[str, ...]) -> str:
        cells = [
            c.rjust(w) if i else c.ljust(w)
            for i, (c, w) in enumerate(zip(row[:4], widths, strict=True))
        ]
        return "  ".join(cells).rstrip()

    if rows:
        out += ["", fmt(header), fmt(tuple("-" * w for w in widths))]
        for row in rows:
            out += [fmt(row), f"    {row[4]}"]
    if held:
        out += ["", "Held for unclaimed projects (reserved, not paid):"]
        for row in held:
            out += [fmt(row), f"    {row[4]}"]
    if not rows and not held:
        out += ["", "No project can be paid this month: the whole budget is remainder."]
    out += ["", f"Remainder: {format_amount(proposal.remainder, currency)} (carried to next month)"]
    if proposal.omitted:
        counts: dict[str, int] = {}
        for entry in proposal.omitted:
            counts[entry.code] = counts.get(entry.code, 0) + 1
        summary = ", ".join(f"{code.replace('_', ' ')} {n}" for code, n in sorted(counts.items()))
        out.append(f"Not paid: {len(proposal.omitted)} ({summary})")
    return "\n".join(out)
