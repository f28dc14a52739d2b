"""SBOMs: parsing (pure), products and uploads, diff, API and Dependency-Track endpoints."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask

COMMANDS = {"sbom": ("service.sboms.cli:sbom_group", "Read and store SBOMs.")}


def init_web(app: Flask) -> None:
    """The SBOM pages and the upload API (Tributary's and Dependency-Track's)."""
    from service.sboms import api, dtrack, views

    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(dtrack.bp)
    # Outside /api/v1, and open to anyone, as Dependency-Track's own.
    app.add_url_rule("/api/version", "dtrack_version", dtrack.version_info)
