"""``tributary proposals …``: a company's proposals from the command line (app context)."""

from __future__ import annotations

import json

import click
from sqlmodel import select

from service.allocation.errors import ProposalError
from service.allocation.generation import generate_proposal
from service.allocation.queries import proposals_of
from service.audit.services import Actor
from service.companies.models import Company
from service.core.cli import with_appcontext
from service.core.clock import current_period
from service.db import get_db
from service.money import format_amount

CLI_ACTOR = Actor.system("cli")


@click.group("proposals")
def proposals_group() -> None:
    """Generate and list allocation proposals."""


def _company(session, slug: str) -> Company:
    company = session.exec(select(Company).where(Company.slug == slug)).first()
    if company is None:
        raise click.ClickException(f"No company with the slug {slug!r}.")
    return company


def _row(proposal) -> dict:
    currency = proposal.currency
    return {
        "period": proposal.period,
        "revision": proposal.revision,
        "state": proposal.state,
        "currency": currency,
        "budget": format_amount(proposal.budget_minor, currency),
        "paid": format_amount(proposal.paid_minor, currency),
        "held": format_amount(proposal.held_minor, currency),
        "remainder": format_amount(proposal.remainder_minor, currency),
    }


@proposals_group.command("generate")
@click.option("--company", "slug", required=True, help="The company's slug.")
@click.option("--period", help="YYYY-MM (default: this month).")
@click.option(
    "--replace", is_flag=True, help="Replace an unapproved proposal of the period (new revision)."
)
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def generate_command(slug: str, period: str | None, replace: bool, as_json: bool) -> None:
    """Compute the period's proposal (an existing unapproved one is kept unless --replace)."""
    period = period or current_period()
    try:
        with get_db().transaction() as session:
            company = _company(session, slug)
            proposal = generate_proposal(session, CLI_ACTOR, company, period, replace=replace)
            row = _row(proposal)
    except ProposalError as exc:
        raise click.ClickException(exc.message) from None
    if as_json:
        click.echo(json.dumps(row))
        return
    click.echo(
        f"{slug} {row['period']} revision {row['revision']} ({row['state']}): "
        f"{row['paid']} {row['currency']} to pay, {row['held']} held, "
        f"{row['remainder']} remainder."
    )


@proposals_group.command("list")
@click.option("--company", "slug", required=True, help="The company's slug.")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def list_command(slug: str, as_json: bool) -> None:
    """List the company's proposals, newest first."""
    with get_db().transaction() as session:
        rows = [_row(p) for p in proposals_of(session, _company(session, slug).id)]
    if as_json:
        click.echo(json.dumps(rows))
        return
    if not rows:
        click.echo(f"No proposals for {slug} yet.")
    for row in rows:
        click.echo(
            f"{row['period']}  r{row['revision']:<3} {row['state']:<11} "
            f"paid {row['paid']:>12}  held {row['held']:>10}  remainder {row['remainder']:>10} "
            f"{row['currency']}"
        )
