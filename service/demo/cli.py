"""`tributary demo load`: the offline demo company (what scripts/demo.sh loads)."""

from __future__ import annotations

import click

from service.core.cli import with_appcontext


@click.group("demo")
def demo_group() -> None:
    """The offline demo."""


@demo_group.command("load")
@with_appcontext
def demo_load() -> None:
    """Load the demo company, its people, products, projects, risk and proposal (idempotent)."""
    from service.db import get_db
    from service.demo.seed import demo_figures, load_demo

    database = get_db()
    company = load_demo(database)
    with database.transaction() as session:
        figures = demo_figures(session, company)
    click.echo(f"Demo company {company.slug} ready.")
    click.echo(
        f"Risk coverage: {figures.risk_coverage:.0%} of the weight has data (mean over projects); "
        f"payable share: {figures.payable_share:.0%} of the budget goes to a project with a "
        "claim or a known funding channel."
    )
