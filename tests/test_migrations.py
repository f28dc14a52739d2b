"""Migrations build the schema from nothing, and undo it, on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect

from service.db import Database, compared_with_models

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
    "product_versions",
    "github_imports",
    "tasks",
    "scheduler_lease",
    "periodic_runs",
    "projects",
    "package_resolutions",
    "metadata_cache",
    "fetch_leases",
    "maven_parent_poms",
    "maintainers",
    "funding_channels",
    "project_claims",
    "split_proposals",
    "payout_channels",
    "notifications",
    "outbound_usage",
    "outbound_pauses",
    "outbound_slots",
    "outbound_spacing",
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
            opts={
                "compare_type": False,
                "include_object": compared_with_models(connection.dialect.name),
            },
        )
        assert compare_metadata(context, SQLModel.metadata) == []


def test_product_versions_are_recorded_from_the_stored_uploads(tmp_path):
    """0016 gives each version the stored uploads name its row (the first keeps the
    product's UUID, times copied as stored) and a product without uploads its unnamed one."""
    from sqlalchemy import text

    database = Database(f"sqlite:///{tmp_path}/versions.db")
    try:
        database.upgrade("0015")
        at = "2030-01-0{} 10:00:00.000000+00:00"
        sbom = (
            "INSERT INTO sboms (id, product_id, company_id, content_sha256, format,"
            " spec_version, encoding, source, created_at, component_count, summary, diff,"
            " project_version) VALUES (:id, 1, 1, :sha, 'cyclonedx', '1.5', 'json', 'api',"
            " :at, 0, '{}', '{}', :version)"
        )
        with database.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO companies (id, slug, name, currency, monthly_budget_minor,"
                    " created_at) VALUES (1, 'acme', 'Acme', 'USD', 0, :at)"
                ),
                {"at": at.format(1)},
            )
            for product_id, uuid in ((1, "u-shop"), (2, "u-empty")):
                connection.execute(
                    text(
                        "INSERT INTO products (id, company_id, name, uuid, created_at)"
                        " VALUES (:id, 1, :uuid, :uuid, :at)"
                    ),
                    {"id": product_id, "uuid": uuid, "at": at.format(1)},
                )
            for number, version in ((1, "1.0"), (2, None), (3, "1.0"), (4, "2.0")):
                connection.execute(
                    text(sbom),
                    {"id": number, "sha": str(number), "at": at.format(number), "version": version},
                )
        database.upgrade()
        with database.engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT product_id, version, uuid, sbom_id, last_bom_import IS NOT NULL"
                    " FROM product_versions ORDER BY product_id, id"
                )
            ).fetchall()
            tags = connection.execute(text("SELECT tags FROM products")).scalars().all()
    finally:
        database.engine.dispose()
    assert [(r[0], r[1], r[3], r[4]) for r in rows] == [
        (1, "1.0", 3, 1),
        (1, "", 2, 1),
        (1, "2.0", 4, 1),
        (2, "", None, 0),
    ]
    assert rows[0][2] == "u-shop" and rows[3][2] == "u-empty"
    assert len({r[2] for r in rows}) == 4
    assert tags == ["[]", "[]"]
