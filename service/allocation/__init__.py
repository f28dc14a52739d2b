"""Allocation: the monthly split (pure engine, policy), proposals, adjustments, review."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask

COMMANDS = {
    "allocate": (
        "service.allocation.cli:allocate_command",
        "Propose this month's split of a budget over the projects in FILE.",
    ),
    "propose": (
        "service.allocation.propose:propose_command",
        "Propose a monthly split of BUDGET over the projects behind SBOM files (no database).",
    ),
    "proposals": (
        "service.allocation.commands:proposals_group",
        "Generate and list allocation proposals.",
    ),
}


def init_app(app: Flask) -> None:
    """The current proposal's amounts for the risk domain's pledge coverage. An operator's
    own registry table is read now, so a bad entry stops the start with its line rather
    than the first proposal."""
    from service.allocation.queries import current_amounts
    from service.core.services import get_settings
    from service.risk.hooks import proposed_amounts_wanted

    proposed_amounts_wanted.connect(current_amounts)
    table = get_settings(app).infrastructure_table
    if table is not None:
        from service.allocation.infrastructure.stewards import registry_table

        registry_table(table)


def init_web(app: Flask) -> None:
    """The proposals, review and policy pages."""
    from service.allocation.views import bp

    app.register_blueprint(bp)
