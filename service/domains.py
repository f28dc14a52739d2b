"""The domain packages, in the order the app initialises them.

Each domain registers itself; nothing else lists its parts:

- ``COMMANDS`` in its ``__init__``: its ``tributary`` commands, as ``{name: ("module:attr",
  "one-line help")}``; the command line lists them without importing them and loads one
  only when it runs (``service.core.cli``);
- ``init_app(app)`` in its ``__init__``, where it has one: what every process needs of it
  (its signal receivers, checks of its settings), cheap to import;
- ``init_web(app)`` in its ``__init__``, where it has pages: what only the web server needs
  (its blueprints, its readers of /metrics), importing its views there, never at the top;
- its tables in its ``models`` module and its background work (``@task``, ``@periodic``,
  ``@after`` a lower domain's task) in its ``jobs`` module, found by those names: the app
  and migrations load every ``models``, the job registry every ``jobs`` when it runs or
  lists work (``service.jobs.registry.load_job_modules``), so no other process pays for
  them;
- its part of the API's OpenAPI document in its ``openapi`` module (``PATHS``, and
  ``SCHEMAS`` where it has its own), which ``service.api.openapi`` gathers.

The app factory calls `init_app` for every app and `init_web` for the web server's only
(``service.app.create_app(web=...)``): commands, the worker and the scheduler get an app
for commands, which has every table, signal receiver and service but imports no page.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Iterator
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask

    from service.core.cli import Entry

DOMAINS = (
    "service.core",
    "service.audit",
    "service.accounts",
    "service.companies",
    "service.api",
    "service.sboms",
    "service.jobs",
    "service.projects",
    "service.risk",
    "service.notifications",
    "service.allocation",
    "service.pledges",
    "service.overview",
    "service.demo",
)


def _packages() -> Iterator[ModuleType]:
    for name in DOMAINS:
        yield importlib.import_module(name)


def import_modules(kind: str) -> list[ModuleType]:
    """Import every domain's module named `kind` ("models", "jobs", "openapi") that it
    has, in the domains' order."""
    return [
        importlib.import_module(f"{name}.{kind}")
        for name in DOMAINS
        if importlib.util.find_spec(f"{name}.{kind}") is not None
    ]


def import_models() -> None:
    """Import every domain's tables into SQLModel.metadata."""
    import_modules("models")


def commands() -> dict[str, Entry]:
    """Every domain's `tributary` commands, by name (nothing of them is imported)."""
    found: dict[str, Entry] = {}
    for package in _packages():
        for name, entry in getattr(package, "COMMANDS", {}).items():
            if name in found:
                raise RuntimeError(f"two domains declare the command {name!r}")
            found[name] = entry
    return found


def init_app(app: Flask) -> None:
    """Register every domain's tables, signal receivers and commands with the app."""
    from service.core.cli import LazyGroup

    import_models()
    for package in _packages():
        if hasattr(package, "init_app"):
            package.init_app(app)
    # `flask --app service …` finds the same commands, loaded as lazily as `tributary`'s.
    app.cli = LazyGroup(name=app.name, lazy=commands())


def init_web(app: Flask) -> None:
    """Register every domain's pages with the app, in the domains' order."""
    for package in _packages():
        if hasattr(package, "init_web"):
            package.init_web(app)
