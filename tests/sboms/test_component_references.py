"""A component row names an SBOM and a package that exist, and keeps them from being
deleted or renumbered: foreign keys on SQLite, statement triggers on PostgreSQL (migration
0024), written through the bulk paths an upload uses (COPY on PostgreSQL)."""

from __future__ import annotations

import sqlite3
import threading

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session, func, select

from service.db import Database
from service.sboms.models import Package, Sbom, SbomComponent
from service.sboms.storage import COMPONENT_COLUMNS, store_components
from tests.factories import make_package, make_sbom
from tests.sboms.locks import wait_until_a_session_waits_on_a_lock

MISSING = 987_654
# The bulk paths write on the driver's connection, so their errors are the driver's own.
REFUSED = (IntegrityError, sqlite3.IntegrityError, psycopg.IntegrityError)


@pytest.fixture
def named(own_db) -> tuple[int, int, int]:
    """(sbom id, id of a package a component names, id of a package nothing names)."""
    with Session(own_db.engine) as session:
        sbom, package, unnamed = make_sbom(session), make_package(session), make_package(session)
        store_components(session, [row(sbom.id, package.id)])
        session.commit()
        return sbom.id, package.id, unnamed.id


def row(sbom_id: int, package_id: int | None, name: str = "requests") -> tuple:
    values = {"sbom_id": sbom_id, "package_id": package_id, "name": name, "hints": "[]"}
    return tuple(values.get(column) for column in COMPONENT_COLUMNS)


def component_count(database: Database) -> int:
    with Session(database.engine) as session:
        return session.exec(select(func.count()).select_from(SbomComponent)).one()


@pytest.mark.parametrize("missing", ["sbom", "package"])
def test_rows_naming_a_missing_sbom_or_package_are_refused_and_none_is_kept(own_db, named, missing):
    sbom_id, package_id, unnamed_id = named
    rows = [row(sbom_id, unnamed_id), row(sbom_id, None, "internal")]
    rows.append(row(MISSING, package_id) if missing == "sbom" else row(sbom_id, MISSING))
    with Session(own_db.engine) as session, pytest.raises(REFUSED) as refused:
        store_components(session, rows)
        session.commit()
    assert "foreign key" in str(refused.value).lower()
    assert component_count(own_db) == 1


def test_rows_without_a_package_need_only_their_sbom(own_db, named):
    sbom_id, _, _ = named
    with Session(own_db.engine) as session:
        store_components(session, [row(sbom_id, None, "internal")] * 3)
        session.commit()
    assert component_count(own_db) == 4


@pytest.mark.parametrize("model", [Sbom, Package])
def test_a_named_sbom_or_package_cannot_be_deleted_and_an_unnamed_package_can(own_db, named, model):
    sbom_id, package_id, unnamed_id = named
    table, named_id = model.__tablename__, sbom_id if model is Sbom else package_id
    with Session(own_db.engine) as session, pytest.raises(IntegrityError):
        session.execute(text(f"DELETE FROM {table} WHERE id = :id"), {"id": named_id})
        session.commit()
    with Session(own_db.engine) as session:
        session.execute(text("DELETE FROM packages WHERE id = :id"), {"id": unnamed_id})
        session.commit()
        assert session.get(model, named_id) is not None
        assert session.get(Package, unnamed_id) is None


@pytest.mark.parametrize("model", [Sbom, Package])
def test_the_id_of_a_named_sbom_or_package_cannot_change(own_db, named, model):
    sbom_id, package_id, _ = named
    named_id = sbom_id if model is Sbom else package_id
    with Session(own_db.engine) as session, pytest.raises(IntegrityError):
        session.execute(
            text(f"UPDATE {model.__tablename__} SET id = :new WHERE id = :id"),
            {"id": named_id, "new": MISSING},
        )
        session.commit()


@pytest.mark.postgres
def test_a_package_being_named_is_locked_against_delete_until_the_writer_ends(
    fresh_postgres_url,
):
    """As a foreign key's check does: the writer's KEY SHARE lock makes a delete wait, and
    once the writer commits, the delete is refused."""
    database = Database(fresh_postgres_url)
    database.upgrade()
    try:
        with Session(database.engine) as setup:
            sbom, package, other = make_sbom(setup), make_package(setup), make_package(setup)
            sbom_id, package_id, other_id = sbom.id, package.id, other.id
        with Session(database.engine) as writer, Session(database.engine) as deleter:
            store_components(writer, [row(sbom_id, package_id)])
            with pytest.raises(OperationalError, match="could not obtain lock"):
                deleter.execute(
                    text("SELECT FROM packages WHERE id = :id FOR UPDATE NOWAIT"),
                    {"id": package_id},
                )
            deleter.rollback()
            deleter.execute(
                text("SELECT FROM packages WHERE id = :id FOR UPDATE NOWAIT"), {"id": other_id}
            )
            deleter.rollback()
            writer.commit()
            with pytest.raises(IntegrityError, match="sbom_components"):
                deleter.execute(text("DELETE FROM packages WHERE id = :id"), {"id": package_id})
    finally:
        database.engine.dispose()


@pytest.mark.postgres
def test_a_row_naming_a_package_deleted_meanwhile_is_refused(fresh_postgres_url):
    """The other order: the writer waits on the uncommitted delete, then finds the package
    gone and fails as a foreign key's check fails."""
    database = Database(fresh_postgres_url)
    database.upgrade()
    try:
        with Session(database.engine) as setup:
            sbom_id, package_id = make_sbom(setup).id, make_package(setup).id
        outcome: list[BaseException | None] = []

        def write() -> None:
            with Session(database.engine) as writer:
                try:
                    store_components(writer, [row(sbom_id, package_id)])
                    writer.commit()
                    outcome.append(None)
                except BaseException as error:  # handed to the test's thread
                    outcome.append(error)

        with Session(database.engine) as deleter:
            deleter.execute(text("DELETE FROM packages WHERE id = :id"), {"id": package_id})
            thread = threading.Thread(target=write)
            thread.start()
            wait_until_a_session_waits_on_a_lock(database)
            deleter.commit()
        thread.join(timeout=60)
        assert len(outcome) == 1 and isinstance(outcome[0], psycopg.IntegrityError)
        assert "sbom_components_package_id_fkey" in str(outcome[0])
        assert component_count(database) == 0
    finally:
        database.engine.dispose()
