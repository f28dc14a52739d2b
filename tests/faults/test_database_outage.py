"""A database blip mid-request: the app's own 503 (a page for browsers, a problem document
on the API) with the security headers, nothing of the request stored, the next request
served. On PostgreSQL the request's own backend is terminated as it writes; on SQLite the
driver's outage error is raised at the same point, and a database file that cannot be
opened stands for a server that cannot be reached."""

from __future__ import annotations

import base64
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, event, func, text
from sqlmodel import select

from service.app import create_app
from service.audit.services import Actor
from service.companies.services import create_token
from service.sboms.models import Product, Sbom
from tests.conftest import app_settings
from tests.factories import make_company
from tests.sboms.documents import cyclonedx

BOM = base64.b64encode(cyclonedx(("pkg:npm/left-pad", "1.3.0"))).decode()


@pytest.fixture
def served(database, fake_github, tmp_path):
    app = create_app(app_settings(database.url, fake_github, tmp_path))
    with database.session() as session:
        company = make_company(session, "acme")
        issued = create_token(session, Actor.system("t"), company, name="ci", scopes=["sbom:write"])
        session.commit()
    yield app, issued.plaintext
    app.extensions["tributary.db"].engine.dispose()
    app.extensions["tributary.http"].close()


@contextmanager
def outage_on_first(app, statement_start: str, admin_url: str | None) -> Iterator[None]:
    """The first statement starting `statement_start` finds its connection gone."""
    engine = app.extensions["tributary.db"].engine
    armed = [True]

    def strike(connection, _cursor, statement, _params, _context, _many):
        if not (armed[0] and statement.lstrip().upper().startswith(statement_start)):
            return
        armed[0] = False
        if admin_url is None:
            raise sqlite3.OperationalError("disk I/O error")
        pid = connection.connection.dbapi_connection.info.backend_pid
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as killer:
            killer.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid})
        admin.dispose()

    event.listen(engine, "before_cursor_execute", strike)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", strike)
    assert not armed[0], f"no statement started {statement_start!r}"


def _count(database, model) -> int:
    with database.session() as session:
        return session.exec(select(func.count()).select_from(model)).one()


def _upload(client, key):
    body = {"projectName": "shop", "autoCreate": True, "bom": BOM}
    return client.put("/api/v1/bom", json=body, headers={"X-Api-Key": key})


def test_connection_lost_mid_upload_fails_cleanly_and_the_next_upload_works(
    database, served, request
):
    app, key = served
    admin_url = None
    if database.engine.dialect.name == "postgresql":
        admin_url = request.getfixturevalue("postgres_admin_url")
    client = app.test_client()
    with outage_on_first(app, "INSERT INTO SBOMS", admin_url):
        failed = _upload(client, key)
    assert failed.status_code == 503
    assert failed.mimetype == "application/problem+json"
    assert failed.headers["Retry-After"] == "5"
    assert failed.headers["X-Content-Type-Options"] == "nosniff"
    assert failed.get_json()["error"]["code"] == "unavailable"
    # Nothing half-written: neither the SBOM nor the product it would have created.
    assert _count(database, Sbom) == 0
    assert _count(database, Product) == 0

    stored = _upload(client, key)
    assert stored.status_code == 200, stored.get_data(as_text=True)
    assert _count(database, Sbom) == 1


def test_connection_lost_while_drawing_a_page_answers_the_apps_own_503(database, served, request):
    app, _ = served
    admin_url = None
    if database.engine.dialect.name == "postgresql":
        admin_url = request.getfixturevalue("postgres_admin_url")
    client = app.test_client()
    with outage_on_first(app, "SELECT", admin_url):
        failed = client.get("/login")
    assert failed.status_code == 503
    assert failed.mimetype == "text/html"
    assert b"The database cannot be reached right now" in failed.data
    assert failed.headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert client.get("/login").status_code == 200


def test_a_database_that_cannot_be_opened_answers_503_until_it_can(fake_github, tmp_path):
    home = tmp_path / "not-yet"
    url = f"sqlite:///{home}/tributary.db"
    app = create_app(app_settings(url, fake_github, tmp_path / "instance"))
    client = app.test_client()

    page = client.get("/login")
    assert page.status_code == 503
    assert b"The database cannot be reached right now" in page.data
    assert page.headers["X-Frame-Options"] == "DENY"
    api = client.get("/api/v1/companies/acme", headers={"Authorization": "Bearer trb_x"})
    assert api.status_code == 503
    assert api.get_json()["status"] == 503

    home.mkdir()
    app.extensions["tributary.db"].upgrade()
    assert client.get("/login").status_code == 200
    app.extensions["tributary.db"].engine.dispose()
    app.extensions["tributary.http"].close()


def test_readiness_takes_one_pooled_connection(database, served):
    app, _ = served
    pool = app.extensions["tributary.db"].engine.pool
    out, most = [0], [0]

    def checkout(*_):
        out[0] += 1
        most[0] = max(most[0], out[0])

    def checkin(*_):
        out[0] -= 1

    event.listen(pool, "checkout", checkout)
    event.listen(pool, "checkin", checkin)
    client = app.test_client()
    client.get("/login")  # the first request checks the migrations on a connection of its own
    most[0] = 0
    for _ in range(3):
        assert client.get("/readyz").get_json()["status"] == "ok"
    assert most[0] == 1
    assert out[0] == 0


@pytest.mark.postgres
def test_the_pool_is_sized_by_the_settings(fresh_postgres_url, fake_github, tmp_path):
    settings = app_settings(
        fresh_postgres_url,
        fake_github,
        tmp_path,
        db_pool_size=3,
        db_max_overflow=2,
        db_pool_timeout=4.5,
        db_pool_recycle=600,
    )
    app = create_app(settings)
    engine = app.extensions["tributary.db"].engine
    assert (engine.pool.size(), engine.pool._max_overflow, engine.pool._timeout) == (3, 2, 4.5)
    assert engine.pool._recycle == 600 and engine.pool._pre_ping
    engine.dispose()
    app.extensions["tributary.http"].close()
