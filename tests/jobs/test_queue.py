"""The task queue: runs due work once, retries failures with backoff, leases what runs."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from service.db import Database
from service.jobs import registry
from service.jobs.models import Task, TaskStatus
from service.jobs.queue import (
    DEFAULT_LEASE,
    MAX_ATTEMPTS,
    Heartbeat,
    claim,
    enqueue,
    finish,
    release,
    renew,
    run_pending,
)

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


def test_a_running_task_is_left_alone_while_its_lease_holds(app, session, calls, clock):
    database = app.extensions["tributary.db"]
    enqueue(session, "test.record", {"n": 7})
    session.commit()
    first = claim(database, "host-a:1", now=NOW, lease=DEFAULT_LEASE)
    assert first is not None and first.attempts == 1
    # Another worker, a second before the lease ends: nothing to take.
    just_before = NOW + DEFAULT_LEASE - timedelta(seconds=1)
    assert claim(database, "host-b:2", now=just_before, lease=DEFAULT_LEASE) is None
    assert run_pending(database, now=just_before) == 0
    assert calls == []


def test_a_task_whose_worker_died_runs_again_after_its_lease(app, session, calls):
    database = app.extensions["tributary.db"]
    task = enqueue(session, "test.record", {"n": 7})
    session.commit()
    dead = claim(database, "host-a:1", now=NOW, lease=DEFAULT_LEASE)  # then SIGKILLed
    after = NOW + DEFAULT_LEASE + timedelta(seconds=1)
    assert run_pending(database, now=after) == 1
    assert calls == [({"n": 7}, after)]
    # The dead worker's late answer changes nothing: the task is another's (and done).
    assert finish(database, dead, now=after, error="RuntimeError: late") is False
    session.refresh(task)
    assert (task.status, task.attempts, task.last_error, task.worker) == (
        TaskStatus.done,
        2,
        None,
        None,
    )


def test_renewing_keeps_the_lease_and_tells_who_lost_it(app, session, calls):
    database = app.extensions["tributary.db"]
    enqueue(session, "test.record", {"n": 1})
    session.commit()
    held = claim(database, "host-a:1", now=NOW, lease=DEFAULT_LEASE)
    later = NOW + DEFAULT_LEASE - timedelta(seconds=5)
    assert renew(database, [held], now=later, lease=DEFAULT_LEASE) == []
    # Renewed: still held past the first lease's end.
    assert (
        claim(
            database,
            "host-b:2",
            now=NOW + DEFAULT_LEASE + timedelta(seconds=1),
            lease=DEFAULT_LEASE,
        )
        is None
    )
    expired = later + DEFAULT_LEASE + timedelta(seconds=1)
    taken = claim(database, "host-b:2", now=expired, lease=DEFAULT_LEASE)
    assert taken is not None and taken.worker == "host-b:2" and taken.attempts == 2
    assert renew(database, [held], now=expired, lease=DEFAULT_LEASE) == [held]


def test_a_released_task_is_due_at_once_without_counting_an_attempt(app, session, calls):
    database = app.extensions["tributary.db"]
    task = enqueue(session, "test.record", {"n": 3})
    session.commit()
    held = claim(database, "host-a:1", now=NOW, lease=DEFAULT_LEASE)
    release(database, [held])
    session.refresh(task)
    assert (task.status, task.attempts, task.worker) == (TaskStatus.queued, 0, None)
    assert run_pending(database, now=NOW) == 1
    assert calls == [({"n": 3}, NOW)]


def test_a_task_that_keeps_killing_its_worker_fails_for_good(app, session, calls):
    database = app.extensions["tributary.db"]
    task = enqueue(session, "test.record", {"n": 9})
    session.commit()
    now = NOW
    for worker in range(MAX_ATTEMPTS):
        assert claim(database, f"host:{worker}", now=now, lease=DEFAULT_LEASE) is not None
        now += DEFAULT_LEASE + timedelta(seconds=1)
    assert run_pending(database, now=now) == 0
    session.refresh(task)
    assert task.status == TaskStatus.failed
    assert task.last_error == f"lease ran out {MAX_ATTEMPTS} times"
    assert calls == []


def test_workers_claim_only_the_kinds_they_run(app, session, calls):
    database = app.extensions["tributary.db"]
    enqueue(session, "test.explode")
    enqueue(session, "test.record", {"n": 4})
    session.commit()
    assert run_pending(database, now=NOW, kinds=["test.record"]) == 1
    assert calls == [({"n": 4}, NOW)]
    left = session.exec(select(Task).where(Task.status == TaskStatus.queued)).all()
    assert [t.kind for t in left] == ["test.explode"]


def test_the_heartbeat_renews_the_leases_of_held_tasks(tmp_path, clock):
    # A database of its own: the heartbeat writes from its own thread and connection.
    database = Database(f"sqlite:///{tmp_path}/heartbeat.db")
    database.upgrade()
    lease = timedelta(seconds=0.3)
    try:
        with database.transaction() as session:
            enqueue(session, "test.record", {"n": 5})
        held = claim(database, "host-a:1", now=NOW, lease=lease)
        renewed_at = clock.advance(timedelta(minutes=10))
        with Heartbeat(database, lease) as heartbeat:
            heartbeat.hold(held)
            for _ in range(200):  # bounded: the heartbeat beats every 0.1 s
                with database.transaction() as session:
                    lease_until = session.get(Task, held.id).lease_until
                if lease_until == renewed_at + lease:
                    break
                threading.Event().wait(0.05)
        assert lease_until == renewed_at + lease
    finally:
        database.engine.dispose()


def test_the_database_refuses_a_second_pending_task_with_a_key(app, session):
    enqueue(session, "test.record", unique_key="risk:company:15")
    session.commit()
    with pytest.raises(IntegrityError), session.begin_nested():
        session.add(Task(kind="test.record", unique_key="risk:company:15"))
    # Finished work does not count: the key may be queued again.
    session.add(Task(kind="test.record", unique_key="risk:company:15", status=TaskStatus.done))
    session.commit()
    assert len(session.exec(select(Task)).all()) == 2


@pytest.mark.postgres
def test_two_processes_queueing_one_key_at_once_make_one_task(fresh_postgres_url):
    database = Database(fresh_postgres_url)
    database.upgrade()
    try:
        with database.transaction() as first:
            mine = enqueue(first, "test.record", unique_key="resolve:product:1")
            first.flush()
            # The other transaction looks before ours commits, so only the index stops it.
            seen: list[Task] = []
            other = threading.Thread(target=lambda: seen.append(_enqueue_apart(database)))
            other.start()
            other.join(0.5)  # let it reach our uncommitted row and wait there
        other.join(30)
        assert [task.id for task in seen] == [mine.id]
        with database.transaction() as check:
            assert len(check.exec(select(Task)).all()) == 1
    finally:
        database.engine.dispose()


def _enqueue_apart(database: Database) -> Task:
    with database.transaction() as session:
        return enqueue(session, "test.record", unique_key="resolve:product:1")


def test_follow_ups_run_after_a_task_succeeds(app, session, calls, monkeypatch):
    database = app.extensions["tributary.db"]
    followed: list[dict] = []
    monkeypatch.setitem(registry.FOLLOW_UPS, "test.record", [lambda p, now: followed.append(p)])
    monkeypatch.setitem(registry.FOLLOW_UPS, "test.explode", [lambda p, now: followed.append(p)])
    enqueue(session, "test.record", {"n": 1})
    enqueue(session, "test.explode", {"n": 2})
    session.commit()
    assert run_pending(database, now=NOW) == 2
    assert followed == [{"n": 1}]  # a failed task is not followed up
