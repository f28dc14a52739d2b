"""`tributary company …` and `tributary token …`: companies and API tokens by hand."""

from __future__ import annotations

import json
import sys

import click
from sqlmodel import Session, select

from service.audit.services import Actor
from service.companies import services as companies
from service.companies.models import Company, Role
from service.core.cli import with_appcontext
from service.db import get_db
from service.money import MoneyError, parse_amount

CLI_ACTOR = Actor.system("cli")


def company_by_slug(session: Session, slug: str) -> Company:
    """The company with this slug, or a command-line error naming it."""
    company = session.exec(select(Company).where(Company.slug == slug)).first()
    if company is None:
        raise click.ClickException(f"No company with the slug {slug!r}.")
    return company


@click.group("company")
def company_group() -> None:
    """Manage companies."""


@company_group.command("create")
@click.argument("slug")
@click.option("--name", required=True, help="Display name.")
@click.option("--currency", default="USD", show_default=True, help="ISO 4217 code.")
@click.option("--budget", default="0", help="Monthly budget, e.g. 5000.00.")
@with_appcontext
def company_create(slug: str, name: str, currency: str, budget: str) -> None:
    """Create a company (invite its first owner afterwards from `tributary company invite`)."""
    try:
        budget_minor = parse_amount(budget, currency)
        with get_db().transaction() as session:
            company = companies.create_company(
                session,
                CLI_ACTOR,
                slug=slug,
                name=name,
                currency=currency,
                budget_minor=budget_minor,
            )
            click.echo(
                f"Created {company.slug} ({company.name}), {budget} {company.currency}/month."
            )
    except (companies.CompanyError, MoneyError) as exc:
        raise click.ClickException(getattr(exc, "message", str(exc))) from None


@company_group.command("invite")
@click.argument("slug")
@click.argument("login")
@click.option(
    "--role", type=click.Choice(["owner", "reviewer", "viewer"]), default="owner", show_default=True
)
@with_appcontext
def company_invite(slug: str, login: str, role: str) -> None:
    """Invite a GitHub LOGIN; they become a member when they next sign in."""
    with get_db().transaction() as session:
        company = company_by_slug(session, slug)
        try:
            companies.invite(session, CLI_ACTOR, company, login, Role(role))
        except companies.CompanyError as exc:
            raise click.ClickException(exc.message) from None
    click.echo(f"Invited {login} to {slug} as {role}.")


@click.group("token")
def token_group() -> None:
    """Manage API tokens."""


@token_group.command("create")
@click.argument("slug")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    required=True,
    type=click.Choice(list(companies.SCOPES)),
    help="Repeat for several scopes.",
)
@click.option("--name", default="CLI token", show_default=True)
@with_appcontext
def token_create(slug: str, scopes: tuple[str, ...], name: str) -> None:
    """Create a token and print it once; only its hash is stored."""
    with get_db().transaction() as session:
        issued = companies.create_token(
            session, CLI_ACTOR, company_by_slug(session, slug), name=name, scopes=list(scopes)
        )
    click.echo(issued.plaintext)
    click.echo(
        f"Token {issued.token.prefix}… ({', '.join(issued.token.scopes)}) created; "
        "store it now, it is not shown again.",
        err=True,
    )


@token_group.command("revoke")
@click.argument("slug")
@click.argument("token", metavar="TOKEN_ID_OR_PREFIX")
@with_appcontext
def token_revoke(slug: str, token: str) -> None:
    """Revoke a token by its id or its displayed prefix."""
    with get_db().transaction() as session:
        try:
            revoked = companies.revoke_token(
                session, CLI_ACTOR, company_by_slug(session, slug), token
            )
        except companies.CompanyError as exc:
            raise click.ClickException(exc.message) from None
    click.echo(f"Revoked {revoked.prefix}….")


@token_group.command("list")
@click.argument("slug")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def token_list(slug: str, as_json: bool) -> None:
    """List a company's tokens (prefixes only)."""
    with get_db().transaction() as session:
        rows = [
            {
                "id": t.id,
                "name": t.name,
                "prefix": t.prefix,
                "scopes": t.scopes,
                "active": t.active,
                "last_used_at": t.last_used_at and t.last_used_at.isoformat(),
            }
            for t in companies.company_tokens(session, company_by_slug(session, slug))
        ]
    if as_json:
        json.dump(rows, sys.stdout)
        click.echo()
    for row in [] if as_json else rows:
        click.echo(
            f"{row['id']:>4}  {row['prefix']}…  {','.join(row['scopes']):<16} "
            f"{'active' if row['active'] else 'revoked':<8} {row['name']}"
        )
