"""Pledges: what a company committed to pay each project for a month, the payments made
against them, the payment files for the platforms (exports)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask

COMMANDS = {
    "export": (
        "service.pledges.cli:export_command",
        "Export a month's pledges as a payment platform takes them.",
    ),
    "report": ("service.pledges.cli:report_group", "Reports on what a company paid."),
}


def init_web(app: Flask) -> None:
    """The pledge pages and API."""
    from service.pledges import api, views

    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp)
