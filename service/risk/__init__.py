"""Risk: the score (pure), per-company snapshots, exposure, the dependency table, API."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask

COMMANDS = {"risk": ("service.risk.cli:risk_group", "Risk scores of open source projects.")}


def init_web(app: Flask) -> None:
    """The risk pages and API."""
    from service.risk import api, views

    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp)
