"""People and GitHub sign-in."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask


def init_web(app: Flask) -> None:
    """Sign-in, sign-out and the account pages."""
    from service.accounts.views import bp

    app.register_blueprint(bp)
