"""The ground floor: clock, crypto, errors, HTTP client, health views, the CLI's mechanism.

Nothing here imports a domain package: every domain may build on core.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask

COMMANDS = {
    "db": ("service.core.commands:db_group", "Create or upgrade the database schema."),
    "run": ("service.core.commands:run", "Run a development server."),
    "shell": ("service.core.commands:shell", "Run a shell in the app context."),
    "routes": ("service.core.commands:routes", "Show the routes for the app."),
}


def init_web(app: Flask) -> None:
    """The health checks."""
    from service.core.views import bp

    app.register_blueprint(bp)
