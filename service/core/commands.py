"""Operator commands that belong to no domain: the schema (`db`) and Flask's own commands
(`run`, `shell`, `routes`) bound to Tributary's app factory, the whole web app."""

from __future__ import annotations

import os

import click
from flask.cli import routes_command, run_command, shell_command

from service.core.cli import script_info, with_appcontext

# Database ----------------------------------------------------------------------------------


@click.group("db")
def db_group() -> None:
    """Create or upgrade the database schema."""


@db_group.command("upgrade")
@click.argument("revision", default="head")
@with_appcontext
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION (default: the latest)."""
    from service.db import get_db

    database = get_db()
    database.upgrade(revision)
    click.echo(f"Database at {database.current_revision()} ({_redacted(database.url)}).")


@db_group.command("downgrade")
@click.argument("revision")
@with_appcontext
def db_downgrade(revision: str) -> None:
    """Revert migrations down to REVISION ('base' empties the schema)."""
    from service.db import get_db

    database = get_db()
    database.downgrade(revision)
    click.echo(f"Database at {database.current_revision() or 'base'}.")


@db_group.command("current")
@with_appcontext
def db_current() -> None:
    """Show the schema revision and whether it is up to date."""
    from service.db import get_db

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

    from service.db import get_db

    command.revision(get_db().alembic_config(), message=message, autogenerate=True)


def _redacted(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


# Flask's commands --------------------------------------------------------------------------


def _flask_command(flask_command: click.Command, before=None) -> click.Command:
    """Flask's command, handed Tributary's app factory (it finds the app through ScriptInfo)."""

    @click.pass_context
    def callback(ctx: click.Context, **options) -> None:
        if before is not None:
            before(options)
        ctx.obj = script_info(ctx, web=True)  # they serve or list the pages
        assert flask_command.callback is not None  # Flask's commands all have one
        ctx.invoke(flask_command.callback, **options)

    return click.Command(
        flask_command.name,
        callback=callback,
        params=flask_command.params,
        help=flask_command.help,
        short_help=flask_command.short_help,
    )


def _bind_host(options: dict) -> None:
    # Settings validation needs the bind address (demo sign-in is loopback-only).
    os.environ["TRIBUTARY_BIND_HOST"] = options["host"]


run = _flask_command(run_command, before=_bind_host)
shell = _flask_command(shell_command)
routes = _flask_command(routes_command)
