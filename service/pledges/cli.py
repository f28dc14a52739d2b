"""``tributary export …`` and ``tributary report …`` (app context).

``tributary report open-source-pledge --company SLUG --year YYYY --developers N [--rate
EUR=1.08 …] [--json]`` prints the Open Source Pledge report (Markdown, or JSON) over the
payments recorded in that year, converted to US dollars at the rates given.

``tributary export github-sponsors|open-collective|csv|json --company SLUG --period
YYYY-MM [--out PATH]`` writes the export (one file to PATH or stdout; several files into
the directory PATH), records it like the web does and marks its pledges exported. What
it left out, and why, is printed on stderr.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from sqlmodel import select

from service.audit.services import Actor
from service.companies.models import Company
from service.core.cli import with_appcontext
from service.core.clock import utcnow
from service.core.services import get_settings
from service.db import get_db
from service.pledges import pledge_report
from service.pledges.exporting import make_export
from service.pledges.exports import KINDS
from service.pledges.lifecycle import TransitionError
from service.pledges.services import paid_items

CLI_ACTOR = Actor.system("cli")


def company_by_slug(session, slug: str) -> Company:
    company = session.exec(select(Company).where(Company.slug == slug)).first()
    if company is None:
        raise click.ClickException(f"No company with the slug {slug!r}.")
    return company


@click.command("export")
@click.argument("kind", type=click.Choice(KINDS))
@click.option("--company", "slug", required=True, help="The company's slug.")
@click.option("--period", required=True, help="The pledges' month, YYYY-MM.")
@click.option("--out", "out", type=click.Path(path_type=Path), help="File (or directory).")
@with_appcontext
def export_command(kind: str, slug: str, period: str, out: Path | None) -> None:
    """Export a month's pledges as a payment platform takes them."""
    try:
        with get_db().transaction() as session:
            company = company_by_slug(session, slug)
            made, row = make_export(
                session,
                CLI_ACTOR,
                company_id=company.id,
                slug=slug,
                period=period,
                kind=kind,
                row_limit=get_settings().github_sponsors_row_limit,
            )
            if len(made.files) > 1 and out is None:
                raise click.ClickException(
                    f"This export has {len(made.files)} files: give --out DIRECTORY."
                )
            _write(made.files, out)
    except TransitionError as exc:
        raise click.ClickException(exc.message) from None
    for item in made.left_out:
        who = f" ({item.who})" if item.who else ""
        click.echo(
            f"left out: {item.project}{who} {item.to_dict()['amount']} {item.currency}: "
            f"{item.reason}",
            err=True,
        )
    click.echo(f"export {row.id} {kind} {period} sha256 {row.checksum}", err=True)


def _write(files, out: Path | None) -> None:
    if out is None:
        sys.stdout.buffer.write(files[0].content)
        sys.stdout.flush()
        return
    if len(files) == 1 and not out.is_dir():
        out.write_bytes(files[0].content)
        return
    out.mkdir(parents=True, exist_ok=True)
    for f in files:
        (out / f.name).write_bytes(f.content)


@click.group("report")
def report_group() -> None:
    """Reports on what a company paid."""


@report_group.command("open-source-pledge")
@click.option("--company", "slug", required=True, help="The company's slug.")
@click.option("--year", required=True, type=int, help="The calendar year, YYYY.")
@click.option("--developers", required=True, help="The average number of developers.")
@click.option("--rate", "rates", multiple=True, help="CUR=RATE: US dollars for one unit.")
@click.option("--json", "as_json", is_flag=True, help="The JSON report instead of Markdown.")
@with_appcontext
def open_source_pledge_command(
    slug: str, year: int, developers: str, rates: tuple[str, ...], as_json: bool
) -> None:
    """Print the company's Open Source Pledge report for a year."""
    try:
        with get_db().transaction() as session:
            company = company_by_slug(session, slug)
            report = pledge_report.build(
                year,
                utcnow().date(),
                pledge_report.parse_developers(developers),
                paid_items(session, company.id, year),
                pledge_report.parse_rates(rates),
            )
    except pledge_report.ReportError as exc:
        raise click.ClickException(str(exc)) from None
    text = (
        pledge_report.to_json(report)
        if as_json
        else pledge_report.to_markdown(report, company.name)
    )
    click.echo(text, nl=False)
