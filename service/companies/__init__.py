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
    """Invitations accepted on sign-in."""
    from service.accounts.signals import signed_in

    # Held strongly: a module function lives as long as the process, and the weak
    # reference's clean-up would run (and fail) as the interpreter exits.
    signed_in.connect(_accept_invitations, app, weak=False)


def init_web(app: Flask) -> None:
    """The company pages: home, members, settings, organisations, tokens."""
    from service.companies.views import bp

    app.register_blueprint(bp)


def _accept_invitations(app: Flask, *, user, session) -> None:
    """Invitations wait for the person's sign-in (`signed_in`)."""
    from service.companies.services import accept_invitations

    accept_invitations(session, user)
