"""Uploads are never lost to the database: SQLite writers wait their turn (and try once
more), and a file the database fails on is reported alone, never hiding the files after it."""

from __future__ import annotations

import sqlite3
import threading

import pytest
from sqlalchemy.exc import OperationalError
from sqlmodel import select

from service.app import create_app
from service.companies.models import Role
from service.db import Database
from service.jobs import registry
from service.jobs.models import Task
from service.jobs.queue import enqueue, run_pending
from service.sboms import services
from service.sboms.models import Sbom
from tests.conftest import app_settings, login
from tests.factories import make_company, make_user
from tests.sboms.documents import cyclonedx
from tests.sboms.test_upload_web import text, upload

V1 = cyclonedx(("pkg:pypi/requests", "2.31.0"))
V2 = cyclonedx(("pkg:pypi/requests", "2.32.0"))
V3 = cyclonedx(("pkg:pypi/requests", "2.33.0"))


@pytest.fixture
def reviewer(session):
    rafa = make_user(session, "rafa")
    make_company(session, "acme", members=[(rafa, Role.reviewer)])
    return rafa


def failing_on(monkeypatch, *, call: int, error: Exception, times: int = 1) -> None:
    """Make the ingest of upload number `call` (counting every attempt) fail `times` times."""
    real, calls = services.ingest, []

    def ingest(*args, **kwargs):
        calls.append(1)
        if call <= len(calls) < call + times:
            raise error
        return real(*args, **kwargs)

    monkeypatch.setattr(services, "ingest", ingest)


def stored(session) -> list[str]:
    session.expire_all()
    return [s.filename for s in session.exec(select(Sbom).order_by(Sbom.id))]


def test_a_file_the_database_fails_on_never_hides_the_next_ones(
    client, app, session, reviewer, monkeypatch
):
    login(client, reviewer)
    lost = OperationalError("INSERT INTO sboms", {}, Exception("server closed the connection"))
    failing_on(monkeypatch, call=2, error=lost)
    response = upload(client, app, [("v1.cdx.json", V1), ("v2.cdx.json", V2), ("v3.cdx.json", V3)])
    assert response.status_code == 200
    page = text(response)
    assert 'v1.cdx.json <span class="badge good">stored' in page
    assert 'v2.cdx.json <span class="badge bad">not stored' in page
    assert "could not be stored just now" in page
    assert 'v3.cdx.json <span class="badge good">stored' in page
    assert stored(session) == ["v1.cdx.json", "v3.cdx.json"]


def test_only_database_failures_answer_503(client, app, session, reviewer, monkeypatch):
    login(client, reviewer)
    lost = OperationalError("INSERT INTO sboms", {}, Exception("server closed the connection"))
    failing_on(monkeypatch, call=1, error=lost)
    response = upload(client, app, [("v1.cdx.json", V1)])
    assert response.status_code == 503
    assert stored(session) == []


def test_a_database_that_stays_locked_is_tried_once_more(
    client, app, session, reviewer, monkeypatch
):
    login(client, reviewer)
    locked = OperationalError(
        "INSERT INTO sboms", {}, sqlite3.OperationalError("database is locked")
    )
    failing_on(monkeypatch, call=1, error=locked)
    response = upload(client, app, [("v1.cdx.json", V1), ("v2.cdx.json", V2)])
    assert response.status_code == 200
    assert text(response).count('<span class="badge good">stored') == 2
    assert stored(session) == ["v1.cdx.json", "v2.cdx.json"]
    # Locked twice in a row: that file is reported, the next one is still stored.
    failing_on(monkeypatch, call=1, error=locked, times=2)
    response = upload(client, app, [("v3.cdx.json", V3), ("v1-again.cdx.json", V1 + b" ")])
    assert 'v3.cdx.json <span class="badge bad">not stored' in text(response)
    assert stored(session) == ["v1.cdx.json", "v2.cdx.json", "v1-again.cdx.json"]


@pytest.fixture
def sqlite_app(tmp_path, fake_github):
    """An app on a SQLite file of its own, where other connections really write beside it."""
    url = f"sqlite:///{tmp_path}/locking.db"
    Database(url).upgrade()
    app = create_app(app_settings(url, fake_github, tmp_path))
    yield app
    app.extensions["tributary.db"].engine.dispose()
    app.extensions["tributary.http"].close()


def test_an_upload_while_the_scheduler_writes_is_stored(sqlite_app, monkeypatch):
    database = sqlite_app.extensions["tributary.db"]
    with database.transaction() as session:
        rafa = make_user(session, "rafa")
        make_company(session, "acme", members=[(rafa, Role.reviewer)])
    real, writer = services.ingest, []

    def ingest_while_another_process_writes(*args, **kwargs):
        # After the request's first reads, another process writes and commits.
        def write() -> None:
            with database.transaction() as session:
                enqueue(session, "test.record", {"from": "scheduler"})

        writer.append(threading.Thread(target=write))
        writer[0].start()
        writer[0].join(2.0)  # waits only if the upload's transaction holds the write lock
        return real(*args, **kwargs)

    monkeypatch.setattr(services, "ingest", ingest_while_another_process_writes)
    client = sqlite_app.test_client()
    login(client, rafa)
    response = upload(client, sqlite_app, [("v1.cdx.json", V1)])
    writer[0].join(60)
    assert response.status_code == 200
    with database.transaction() as session:
        assert stored(session) == ["v1.cdx.json"]
        kinds = [(t.kind, t.payload) for t in session.exec(select(Task).order_by(Task.id))]
    assert ("test.record", {"from": "scheduler"}) in kinds


def test_two_workers_on_one_sqlite_file_run_every_task_once(tmp_path, monkeypatch):
    database = Database(f"sqlite:///{tmp_path}/workers.db")
    database.upgrade()
    ran: list[int] = []

    def record(payload, _now):
        with database.transaction() as session:  # the work writes too
            enqueue(session, "test.noted", {"n": payload["n"]})
        ran.append(payload["n"])

    monkeypatch.setitem(registry.TASKS, "test.record", record)
    with database.transaction() as session:
        for n in range(30):
            enqueue(session, "test.record", {"n": n})
    errors: list[BaseException] = []

    def work() -> None:
        try:
            run_pending(database, kinds=["test.record"])
        except BaseException as exc:
            errors.append(exc)

    workers = [threading.Thread(target=work) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
    database.engine.dispose()
    assert errors == []
    assert sorted(ran) == list(range(30))
