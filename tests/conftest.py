"""Fixtures shared by every test: the app, a transaction per test, the fake GitHub.

The schema is migrated once per run; every test runs inside a transaction that is rolled
back afterwards (commits inside the code become savepoints), so tests never see each
other's data. TRIBUTARY_TEST_DATABASE_URL runs the suite on PostgreSQL.
"""

from __future__ import annotations

import ipaddress
import os
import re
import socket
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer
from sqlmodel import Session

from service.accounts.auth import SEEN_KEY, USER_KEY, VERSION_KEY
from service.app import create_app
from service.core.clock import FixedClock, SystemClock, set_clock, use_clock, utcnow
from service.db import Database
from tests.fakes.github import FakeGitHub, serve

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_SBOMS = REPO_ROOT.parent / "shared" / "sboms"
TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"


# CI runs the suite again with the system clock moved years away, so a test or a service
# that reads the real date instead of the injectable clock fails there, not next month.
CLOCK_SHIFT = timedelta(days=int(os.environ.get("TRIBUTARY_TEST_CLOCK_SHIFT_DAYS", "0")))


def pytest_report_header(config):
    url = os.environ.get("TRIBUTARY_TEST_DATABASE_URL", "sqlite (temporary file)")
    return [f"database: {_redacted(url)}", f"clock shifted by: {CLOCK_SHIFT.days} days"]


def pytest_configure(config):
    set_clock(SystemClock(CLOCK_SHIFT))


def _loopback(address) -> bool:
    if not isinstance(address, tuple):
        return True  # a Unix socket's path
    host = str(address[0]).strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return False  # a name: resolving it would already leave the machine


@pytest.fixture(autouse=True)
def no_network(monkeypatch) -> Iterator[list[str]]:
    """Fail any test that connects anywhere but this machine (the outside world, a real
    mail server): the fakes in tests/fakes listen on loopback. The attempt is refused and
    reported even when the code under test swallows the error (it degrades gracefully)."""
    attempts: list[str] = []
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex

    def refuse(address) -> OSError:
        attempts.append(repr(address))
        return ConnectionRefusedError(f"tests may not connect to {address!r}")

    def connect(self, address):
        if not _loopback(address):
            raise refuse(address)
        return real_connect(self, address)

    def connect_ex(self, address):
        if not _loopback(address):
            refuse(address)
            return 111  # ECONNREFUSED
        return real_connect_ex(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    yield attempts
    if attempts:
        pytest.fail(f"the test tried to reach the network: {', '.join(attempts)}")


@pytest.fixture
def tributary_command() -> Path:
    """The installed `tributary` console script beside this Python (skipped without it)."""
    command = Path(sys.executable).with_name("tributary")
    if not command.exists():
        pytest.skip("the tributary console script is not installed beside this Python")
    return command


@pytest.fixture
def clock(request) -> Iterator[FixedClock]:
    """The clock every service reads, standing still at the test module's NOW."""
    with use_clock(FixedClock(request.module.NOW)) as frozen:
        yield frozen


def _redacted(url: str) -> str:
    return re.sub(r"://([^:@/]+):[^@/]+@", r"://\1:***@", url)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = os.environ.get("TRIBUTARY_TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db')}/test.db"


@pytest.fixture(scope="session")
def database(database_url) -> Iterator[Database]:
    database = Database(database_url)
    database.upgrade()
    yield database
    database.engine.dispose()


POSTGRES_ADMIN_URL = os.environ.get(
    "TRIBUTARY_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    """A PostgreSQL server to create throwaway databases on; skipped only off CI."""
    from sqlalchemy import create_engine, text

    engine = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:
        message = (
            f"no PostgreSQL reachable at {_redacted(POSTGRES_ADMIN_URL)} ({type(exc).__name__})"
        )
        if os.environ.get("CI"):
            pytest.fail(message + "; CI must test against PostgreSQL")
        pytest.skip(message)
    finally:
        engine.dispose()
    return POSTGRES_ADMIN_URL


@pytest.fixture
def fresh_postgres_url(postgres_admin_url) -> Iterator[str]:
    """An empty PostgreSQL database for this test, dropped afterwards."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"tributary_t_{os.getpid()}_{os.urandom(4).hex()}"
    admin = create_engine(postgres_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(postgres_admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def own_database(request, tmp_path) -> Iterator[str]:
    """The URL of a migrated database of this test's own, where writes are committed (as
    separate processes see them): a SQLite file, and a fresh PostgreSQL database."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/own.db"
    else:
        url = request.getfixturevalue("fresh_postgres_url")
    database = Database(url)
    database.upgrade()
    database.engine.dispose()
    yield url


@pytest.fixture
def own_db(own_database) -> Iterator[Database]:
    """The application's Database on `own_database`, disposed when the test ends."""
    database = Database(own_database)
    yield database
    database.engine.dispose()


@pytest.fixture(scope="session")
def github_server() -> Iterator[FakeGitHub]:
    fake = FakeGitHub()
    server = serve(fake)
    yield fake
    server.stop()


@pytest.fixture
def fake_github(github_server) -> FakeGitHub:
    github_server.reset()
    return github_server


def app_settings(database_url: str, fake: FakeGitHub, instance: Path, **overrides) -> dict:
    return {
        "env": "test",
        "secret_key": TEST_SECRET,
        "database_url": database_url,
        "instance_path": instance,
        "github_client_id": fake.client_id,
        "github_client_secret": fake.client_secret,
        "github_web_url": fake.base_url,
        "github_api_url": fake.base_url + "/api",
        **overrides,
    }


@pytest.fixture
def app_overrides() -> dict:
    """Override in a test module to change settings for its app."""
    return {}


@pytest.fixture
def app(database, fake_github, tmp_path, app_overrides) -> Iterator[Flask]:
    app = create_app(app_settings(database.url, fake_github, tmp_path, **app_overrides))
    app.extensions["tributary.db"].engine.dispose()
    app.extensions["tributary.db"] = database
    connection = database.engine.connect()
    transaction = connection.begin()
    database.bind_to(connection)
    try:
        yield app
    finally:
        database.unbind()
        transaction.rollback()
        connection.close()
        app.extensions["tributary.http"].close()


@pytest.fixture
def client(app) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def session(app) -> Iterator[Session]:
    """A session inside the test's transaction, for arranging data and checking results."""
    session = app.extensions["tributary.db"].session()
    yield session
    session.close()


def login(client: FlaskClient, user) -> None:
    with client.session_transaction() as flask_session:
        flask_session[USER_KEY] = user.id
        flask_session[VERSION_KEY] = user.session_version
        flask_session[SEEN_KEY] = utcnow().timestamp()


def csrf_token(client: FlaskClient, app: Flask) -> str:
    """A valid CSRF token for this client's session, as Flask-WTF would render it."""
    raw = "test-csrf-" + os.urandom(8).hex()
    with client.session_transaction() as flask_session:
        raw = flask_session.setdefault("csrf_token", raw)
    return URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token").dumps(raw)


def post_form(client: FlaskClient, app: Flask, url: str, data: dict | None = None, **kwargs):
    return client.post(url, data={**(data or {}), "csrf_token": csrf_token(client, app)}, **kwargs)
