"""The company home and its activity page: figures, what needs attention, the audit trail
as sentences. Reads every other domain; nothing reads it."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask


def init_web(app: Flask) -> None:
    """The home and activity pages."""
    from service.overview import views

    app.register_blueprint(views.bp)
