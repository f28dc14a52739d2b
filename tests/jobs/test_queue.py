"""The task queue: runs due work once, retries failures with backoff, survives restarts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from service.jobs import registry
from service.jobs.models import Task, TaskStatus
from service.jobs.queue import MAX_ATTEMPTS, enqueue, requeue_orphans, run_pending

NOW = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
pytestmark = pytest.mark.usefixtures("clock")


@pytest.fixture
def calls(monkeypatch):
    seen: list[tuple[dict, datetime]] = []
    monkeypatch.setitem(registry.TASKS, "test.record", lambda p, now: seen.append((p, now)))

    def explode(payload, now):
        raise RuntimeError("registry answered 503")

    monkeypatch.setitem(registry.TASKS, "test.explode", explode)
    return seen


def test_due_tasks_run_once(app, session, calls):
    database = app.extensions["tributary.db"]
    enqueue(session, "test.record", {"n": 1})
    enqueue(session, "test.record", {"n": 2}, run_after=NOW + timedelta(hours=1))
    session.commit()
    assert run_pending(database, now=NOW) == 1
    assert calls == [({"n": 1}, NOW)]
    assert run_pending(database, now=NOW) == 0
    assert run_pending(database, now=NOW + timedelta(hours=2)) == 1
    statuses = [t.status for t in session.exec(select(Task).order_by(Task.id))]
    assert statuses == [TaskStatus.done, TaskStatus.done]


def test_same_unique_key_is_queued_once(session, calls):
    first = enqueue(session, "test.record", unique_key="resolve:product:1")
    again = enqueue(session, "test.record", unique_key="resolve:product:1")
    session.commit()
    assert first.id == again.id
    assert len(session.exec(select(Task)).all()) == 1


def test_failures_are_retried_with_backoff_then_given_up(app, session, calls):
    database = app.extensions["tributary.db"]
    failing = enqueue(session, "test.explode")
    session.commit()
    now = NOW
    for attempt in range(1, MAX_ATTEMPTS + 1):
        assert run_pending(database, now=now) == 1
        session.refresh(failing)
        assert failing.attempts == attempt
        assert failing.last_error == "RuntimeError: registry answered 503"
        if attempt < MAX_ATTEMPTS:
            assert failing.status == TaskStatus.queued
            assert failing.run_after.astimezone(UTC) > now
            assert run_pending(database, now=now) == 0  # not due again yet
            now = failing.run_after.astimezone(UTC)
    assert failing.status == TaskStatus.failed


def test_unknown_kind_fails_visibly(app, session):
    database = app.extensions["tributary.db"]
    unknown = enqueue(session, "nobody.handles.this")
    session.commit()
    run_pending(database, now=NOW)
    session.refresh(unknown)
    assert "no handler for task kind 'nobody.handles.this'" in unknown.last_error


def test_a_task_left_running_by_a_crash_runs_again_after_restart(app, session, calls):
    database = app.extensions["tributary.db"]
    crashed = enqueue(session, "test.record", {"n": 7})
    session.commit()
    crashed.status, crashed.attempts = TaskStatus.running, 1  # as a killed process leaves it
    session.add(crashed)
    session.commit()
    assert run_pending(database, now=NOW) == 0
    assert requeue_orphans(database) == 1
    assert run_pending(database, now=NOW) == 1
    assert calls == [({"n": 7}, NOW)]
