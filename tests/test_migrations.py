"""Migrations build the schema from nothing, and undo it, on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect

from service.db import Database

EXPECTED_TABLES = {
    "users",
    "companies",
    "memberships",
    "invitations",
    "linked_orgs",
    "api_tokens",
    "events",
    "products",
    "sboms",
    "packages",
    "sbom_components",
    "bom_tokens",
    "tasks",
    "scheduler_lease",
    "periodic_runs",
    "projects",
    "package_resolutions",
    "metadata_cache",
    "maintainers",
    "funding_channels",
    "project_claims",
    "split_proposals",
    "payout_channels",
    "notifications",
    "outbound_usage",
    "risk_weights",
    "risk_snapshots",
    "project_risks",
    "company_exposure_snapshots",
    "allocation_policies",
    "proposals",
    "proposal_lines",
    "proposal_adjustments",
    "pledges",
    "pledge_payments",
    "pledge_settings",
    "pledge_exports",
    "receipt_mappings",
    "receipt_imports",
    "receipts",
}


def roundtrip(url: str) -> None:
    database = Database(url)
    try:
        assert database.current_revision() is None
        database.upgrade()
        assert database.is_migrated()
        assert set(inspect(database.engine).get_table_names()) >= EXPECTED_TABLES
        database.downgrade("base")
        assert not EXPECTED_TABLES & set(inspect(database.engine).get_table_names())
        database.upgrade()
        assert database.current_revision() == database.head_revision()
    finally:
        database.engine.dispose()


def test_sqlite_from_empty(tmp_path):
    roundtrip(f"sqlite:///{tmp_path}/fresh.db")


@pytest.mark.postgres
def test_postgresql_from_empty(fresh_postgres_url):
    roundtrip(fresh_postgres_url)


def test_models_and_migrations_agree(database):
    """Autogenerate finds nothing to do: every model change has its migration."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    from sqlmodel import SQLModel

    with database.engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={"compare_type": False},
        )
        assert compare_metadata(context, SQLModel.metadata) == []
