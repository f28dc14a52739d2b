"""The `tributary` command: a small root group over every domain's commands.

Each domain declares its commands in its package's ``COMMANDS`` (see ``service.domains``);
they are imported only when they run, and only commands that need the app build it
(``service.core.cli.with_appcontext``). So ``tributary --help`` and the database-free
commands start in a fraction of the time the whole application takes to import.
"""

from __future__ import annotations

from service import create_app, domains
from service.core.cli import LazyGroup, run_console

cli = LazyGroup(
    name="tributary",
    help="Tributary: fund the open source maintainers your software depends on.",
    lazy=domains.commands(),
    create_app=create_app,
)


def main() -> None:
    run_console(cli, prog_name="tributary")
