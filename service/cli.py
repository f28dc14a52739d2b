"""The `tributary` command: Flask's CLI bound to the app factory, plus operator commands."""

from __future__ import annotations

import json
import os
import sys

import click
from flask.cli import FlaskGroup, run_command, with_appcontext
from sqlmodel import select

from service.allocation.cli import allocate_command
from service.allocation.commands import proposals_group
from service.allocation.propose import propose_command
from service.app import create_app
from service.audit.services import Actor
from service.companies import services as companies
from service.companies.models import Company
from service.db import get_db
from service.jobs.cli import jobs_group, scheduler_command
from service.money import MoneyError, parse_amount
from service.projects.cli import metadata_group, resolve_command
from service.risk.cli import risk_group
from service.sboms.cli import sbom_group

CLI_ACTOR = Actor.system("cli")


@click.group(cls=FlaskGroup, create_app=create_app, add_version_option=False)
def cli() -> None:
    """Tributary: fund the open source maintainers your software depends on."""


def _run(**options) -> None:
    # Settings validation needs the bind address (demo sign-in is loopback-only).
    os.environ["TRIBUTARY_BIND_HOST"] = options["host"]
    run_command.callback(**options)


cli.add_command(
    click.Command(
        "run",
        callback=_run,
        params=run_command.params,
        help=run_command.help,
        short_help=run_command.short_help,
    ),
)
cli.add_command(risk_group)
cli.add_command(allocate_command)
cli.add_command(propose_command)
cli.add_command(proposals_group)
cli.add_command(sbom_group)
cli.add_command(scheduler_command)
cli.add_command(jobs_group)
cli.add_command(resolve_command)
cli.add_command(metadata_group)


# Database ----------------------------------------------------------------------------------


@cli.group("db")
def db_group() -> None:
    """Create or upgrade the database schema."""


@db_group.command("upgrade")
@click.argument("revision", default="head")
@with_appcontext
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION (default: the latest)."""
    database = get_db()
    database.upgrade(revision)
    click.echo(f"Database at {database.current_revision()} ({_redacted(database.url)}).")


@db_group.command("downgrade")
@click.argument("revision")
@with_appcontext
def db_downgrade(revision: str) -> None:
    """Revert migrations down to REVISION ('base' empties the schema)."""
    database = get_db()
    database.downgrade(revision)
    click.echo(f"Database at {database.current_revision() or 'base'}.")


@db_group.command("current")
@with_appcontext
def db_current() -> None:
    """Show the schema revision and whether it is up to date."""
    database = get_db()
    current, head = database.current_revision(), database.head_revision()
    state = "up to date" if current == head else "behind: run `tributary db upgrade`"
    click.echo(f"{current or 'empty'} (code expects {head}): {state}")


@db_group.command("revision")
@click.option("-m", "--message", required=True)
@with_appcontext
def db_revision(message: str) -> None:
    """Autogenerate a migration from model changes (review it before committing)."""
    from alembic import command

    database = get_db()
    command.revision(database.alembic_config(), message=message, autogenerate=True)


def _redacted(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


# Companies and tokens ----------------------------------------------------------------------


@cli.group("company")
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
    from service.companies.models import Role

    with get_db().transaction() as session:
        company = _company(session, slug)
        try:
            companies.invite(session, CLI_ACTOR, company, login, Role(role))
        except companies.CompanyError as exc:
            raise click.ClickException(exc.message) from None
    click.echo(f"Invited {login} to {slug} as {role}.")


@cli.group("token")
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
            session, CLI_ACTOR, _company(session, slug), name=name, scopes=list(scopes)
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
            revoked = companies.revoke_token(session, CLI_ACTOR, _company(session, slug), token)
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
            for t in companies.company_tokens(session, _company(session, slug))
        ]
    if as_json:
        json.dump(rows, sys.stdout)
        click.echo()
    for row in [] if as_json else rows:
        click.echo(
            f"{row['id']:>4}  {row['prefix']}…  {','.join(row['scopes']):<16} "
            f"{'active' if row['active'] else 'revoked':<8} {row['name']}"
        )


def _company(session, slug: str) -> Company:
    company = session.exec(select(Company).where(Company.slug == slug)).first()
    if company is None:
        raise click.ClickException(f"No company with the slug {slug!r}.")
    return company


# Demo --------------------------------------------------------------------------------------


@cli.group("demo")
def demo_group() -> None:
    """The offline demo."""


@demo_group.command("load")
@with_appcontext
def demo_load() -> None:
    """Load the demo company, its people, products, projects, risk and proposal (idempotent)."""
    from service.demo.seed import demo_figures, load_demo

    database = get_db()
    company = load_demo(database)
    with database.transaction() as session:
        figures = demo_figures(session, company)
    click.echo(f"Demo company {company.slug} ready.")
    click.echo(
        f"Risk coverage: {figures.risk_coverage:.0%} of the weight has data (mean over projects); "
        f"payable share: {figures.payable_share:.0%} of the budget goes to a project with a "
        "claim or a known funding channel."
    )


def main() -> None:
    cli(prog_name="tributary")
