"""How `tributary` commands are found and how they reach the app.

Commands load on first use: a `LazyGroup` knows each subcommand by an import path and its
one-line help, so listing them (`--help`) imports nothing, and running one imports only
its module. The app is built only for commands that ask for it with `with_appcontext`,
and then without the web server's part (the factory's `web=False`: no pages, request
hooks or error pages; `run`, `shell` and `routes` ask for the whole one); the others
(`sbom inspect`, `allocate`, `risk score`, `propose --offline`) never import Flask or the
database layer. Keep this module's imports to click and the standard library.
"""

from __future__ import annotations

import functools
import gc
import importlib
import os
import sys
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import click

from service.core.collector import collector_paused

F = TypeVar("F", bound=Callable[..., Any])

# A command's entry: where it lives ("package.module:attribute") and its one-line help.
Entry = tuple[str, str]

_own_process = False  # True once `run_console` runs: the process is the command's alone


def run_console(group: click.Group, prog_name: str) -> None:
    """Run the console script's command in this process, which is the command's own, so
    a command may end it early with `exit_without_teardown`."""
    global _own_process
    _own_process = True
    group.main(prog_name=prog_name)


def exit_without_teardown(*closing: Callable[[], object]) -> None:
    """End the console script's process now, output flushed, without freeing what it
    holds: after a big document's summary, freeing its million objects one by one and
    tearing the interpreter down take a tenth of the run, for memory the system takes
    back at once. `closing` run first (a database's connections, closed properly).
    Anywhere else (a test's runner, Flask's `flask` command) it returns.
    """
    if _own_process:
        for close in closing:
            close()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


def load_command(target: str) -> click.Command:
    """The command object named by "package.module:attribute" (importing its module)."""
    module, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module), attribute)


class LazyGroup(click.Group):
    """A click group whose subcommands are imported only when they run (or show help)."""

    def __init__(
        self,
        *args: Any,
        lazy: Mapping[str, Entry],
        create_app: Callable[[], Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = dict(lazy)
        # The app factory, handed in by the command's root so core imports no domain; it
        # takes `web`: False for an app without pages.
        self.create_app = create_app

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy and cmd_name not in self.commands:
            self.add_command(load_command(self.lazy[cmd_name][0]), cmd_name)
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # The listing shows the declared help, so `--help` loads no command module.
        names = [
            name
            for name in self.list_commands(ctx)
            if name not in self.commands or not self.commands[name].hidden
        ]
        if not names:
            return
        limit = formatter.width - 6 - max(map(len, names))
        shown = [self.commands.get(n) or click.Command(n, help=self.lazy[n][1]) for n in names]
        rows = [(command.name or "", command.get_short_help_str(limit)) for command in shown]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def with_appcontext(command: F) -> F:
    """Run the command inside the app's context, building the app only now.

    A caller may hand in its own app through Flask's `ScriptInfo` as the context object
    (tests: `app.test_cli_runner()`; `flask --app service`); otherwise the app comes from
    the factory with settings from the environment, as an app for commands (no pages).
    """

    @click.pass_context
    def run(ctx: click.Context, *args: Any, **kwargs: Any) -> Any:
        from flask import current_app

        if not current_app:
            ctx.with_resource(script_info(ctx, web=False).load_app().app_context())
        return ctx.invoke(command, *args, **kwargs)

    return functools.update_wrapper(run, command)  # type: ignore[return-value]


def script_info(ctx: click.Context, *, web: bool):
    """Flask's handle on the app for this invocation (made on first need, then shared):
    one handed in, or one the root's factory builds with or without its pages (`web`)."""
    from flask.cli import ScriptInfo

    info = ctx.find_object(ScriptInfo)
    if info is None:
        root = ctx.find_root()
        factory = getattr(root.command, "create_app", None)
        build = functools.partial(_long_lived, factory, web) if factory else None
        info = root.obj = ScriptInfo(create_app=build)
    return info


def _long_lived(factory: Callable[..., Any], web: bool) -> Any:
    """The factory's app, its objects (and the modules it imported) frozen out of the
    cyclic collector: they live until the process exits, and walking their hundred
    thousand objects again at every full collection and at exit is a third of a second
    of a 100,000-component `sbom ingest`."""
    with collector_paused():  # frozen before the collector could walk them once
        app = factory(web=web)
        gc.freeze()
    return app
