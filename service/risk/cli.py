"""``tributary risk score``: score one project from a JSON file, without a database;
``tributary risk recompute --company SLUG``: rescore a company's projects (database).

Input (a file, or ``-`` for stdin)::

    {"signals": {"publishers": 1, "months_since_release": {"value": 26, "source": "PyPI"},
                 "contributor_count": 12, ...},
     "weights": {"publishers": 20},          # optional, overrides the defaults
     "context": {"products_total": 4}}       # optional, only for the sentences

Signal names are Tributary's (see ``signals.py``) plus the OpenSSF criticality inputs as
OpenSSF names them (``created_since``, ``contributor_count``, ...); the latter appear in
the breakdown as one ``criticality`` line whose ``raw`` holds the inputs given.

``--json`` prints ``{"score", "coverage", "criticality", "breakdown", "explanation"}``;
otherwise a table and the sentences. Bad input exits with status 1 and prints
``{"error": {"code": "invalid_input", "message", "details": {"field"}}}`` on stdout.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import click

from service.core.cli import with_appcontext
from service.core.cli_input import fail, parse_json, read_text
from service.risk.explain import explain
from service.risk.scoring import RiskScore, score
from service.risk.signals import InvalidSignalError, json_repr

__all__ = ["risk_group"]

_TOP_LEVEL = ("signals", "weights", "context")


# No with_appcontext on the group: `risk score` must work without a database.
@click.group(name="risk")
def risk_group() -> None:
    """Risk scores of open source projects."""


def _parse(text: str) -> dict[str, Any]:
    document = parse_json(text)
    if not isinstance(document, dict):
        fail(
            f'input: expected an object {{"signals": {{...}}}}, got {json_repr(document)}',
            {"field": "input"},
        )
    extra = sorted(k for k in document if k not in _TOP_LEVEL)
    if extra:
        fail(
            f"{extra[0]}: unknown key; expected {', '.join(_TOP_LEVEL)}",
            {"field": extra[0]},
        )
    if "signals" not in document:
        fail('signals: missing; expected {"signals": {NAME: value, ...}}', {"field": "signals"})
    if document.get("context") is not None and not isinstance(document["context"], dict):
        fail(
            f"context: expected an object, got {json_repr(document['context'])}",
            {"field": "context"},
        )
    return document


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={_cell(v)}" for k, v in value.items())
    return str(value)


def _table(result: RiskScore, sentences: list[str]) -> str:
    header = ("signal", "raw", "normalized", "weight", "contribution", "source")
    rows = [
        (
            line.signal,
            _cell(line.raw),
            f"{line.normalized:.4f}",
            f"{line.weight:g}",
            f"{line.contribution:.1f}",
            line.source or "",
        )
        for line in result.breakdown
    ]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    right = {2, 3, 4}

    def fmt(row: tuple[str, ...]) -> str:
        cells = [
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        return "  ".join(cells).rstrip()

    score_text = "n/a (no signal with data)" if result.score is None else f"{result.score:.1f}"
    out = [
        f"Risk score: {score_text} / 100   coverage: {result.coverage:.0%}",
        "OpenSSF criticality: "
        + ("n/a" if result.criticality is None else f"{result.criticality:.5f}".rstrip("0")),
        "",
    ]
    if rows:
        out += [fmt(header), fmt(tuple("-" * w for w in widths)), *(fmt(r) for r in rows)]
    if result.missing:
        out += ["", "No data: " + ", ".join(result.missing)]
    if sentences:
        out += ["", "Why:", *(f"- {s}" for s in sentences)]
    return "\n".join(out)


@risk_group.command(name="score")
@click.option(
    "--input",
    "input_path",
    required=True,
    metavar="FILE",
    help='JSON file {"signals": {...}, "weights": {...}}; "-" reads stdin.',
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def score_command(input_path: str, as_json: bool) -> None:
    """Score one project from its signals."""
    document = _parse(read_text(input_path))
    try:
        result = score(document["signals"], document.get("weights"))
    except InvalidSignalError as exc:
        fail(exc.message, exc.details)
    sentences = explain(result, document.get("context"))
    if as_json:
        payload = result.to_dict()
        payload["explanation"] = sentences
        click.echo(json.dumps(payload, ensure_ascii=False))
    else:
        click.echo(_table(result, sentences))


@risk_group.command(name="recompute")
@click.option("--company", "slug", required=True, help="The company's slug.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@with_appcontext
def recompute_command(slug: str, as_json: bool) -> None:
    """Rescore a company's projects now and record today's exposure (idempotent)."""
    from sqlmodel import select

    from service.audit.services import Actor
    from service.companies.models import Company
    from service.db import get_db
    from service.risk.services import recompute_company

    with get_db().transaction() as session:
        company = session.exec(select(Company).where(Company.slug == slug)).first()
        if company is None:
            raise click.ClickException(f"No company with the slug {slug!r}.")
        report = recompute_company(session, company, actor=Actor.system("cli"))
    if as_json:
        click.echo(json.dumps(report.as_dict()))
    else:
        click.echo(
            f"{slug}: {report.projects} projects scored on {report.taken_on.isoformat()}, "
            f"{report.changed} changed, {report.removed} no longer used; "
            f"exposure {report.exposure:.1f}."
        )
