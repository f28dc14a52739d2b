"""The JSON API under /api/v1: token authentication, errors, the OpenAPI document."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask


def init_web(app: Flask) -> None:
    """The API's own endpoints (the domains add theirs under the same prefix)."""
    from service.api.views import bp

    app.register_blueprint(bp)
