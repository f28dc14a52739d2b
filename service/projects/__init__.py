"""Projects: resolution of packages to repositories and people, claims, project pages."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask

COMMANDS = {
    "resolve": (
        "service.projects.cli:resolve_command",
        "Resolve a company's packages to projects now, with a progress bar.",
    ),
    "metadata": ("service.projects.cli:metadata_group", "The shared package metadata cache."),
}


def init_web(app: Flask) -> None:
    """The project pages, claims and the inventory views."""
    from service.projects.views import bp

    app.register_blueprint(bp)
