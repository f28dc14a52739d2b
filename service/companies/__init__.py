"""Companies, members, invitations, linked organisations and API tokens."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask

COMMANDS = {
    "company": ("service.companies.cli:company_group", "Manage companies."),
    "token": ("service.companies.cli:token_group", "Manage API tokens."),
}


def init_app(app: Flask) -> None:
    """The company pages: home, members, settings, organisations, tokens."""
    from service.companies.views import bp

    app.register_blueprint(bp)
