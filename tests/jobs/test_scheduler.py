"""The scheduler: one at a time through a lease, periodic work queued when due, missed
runs caught up, fire times from the injectable clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from service.jobs import registry
from service.jobs.models import PeriodicRun, Task
from service.jobs.queue import run_pending
from service.jobs.scheduler import PERIODIC_TASK, beat, latest_fire, next_runs

NOW = datetime(2026, 11, 30, 23, 0, tzinfo=UTC)
LEASE = timedelta(seconds=30)
pytestmark = pytest.mark.usefixtures("clock")


@pytest.fixture
def monthly_job():
    """The registry holds one monthly test job only (the real ones are put back after)."""
    registry.load_job_modules()
    real = dict(registry.PERIODIC)
    ran: list[datetime] = []
    registry.PERIODIC.clear()
    registry.PERIODIC["test.monthly"] = registry.PeriodicJob(
        "test.monthly", ran.append, {"day": 1, "hour": 5}, "Test job"
    )
    yield ran
    registry.PERIODIC.clear()
    registry.PERIODIC.update(real)


def queued(session) -> list[tuple[str, dict]]:
    session.expire_all()
    return [(t.kind, t.payload) for t in session.exec(select(Task).order_by(Task.id))]


def test_next_fire_times_follow_the_clock(monthly_job):
    runs = next_runs(datetime(2026, 11, 30, 23, 0, tzinfo=UTC))
    assert runs["test.monthly"] == datetime(2026, 12, 1, 5, 0, tzinfo=UTC)
    runs = next_runs(datetime(2026, 12, 1, 5, 0, 1, tzinfo=UTC))
    assert runs["test.monthly"] == datetime(2027, 1, 1, 5, 0, tzinfo=UTC)


def test_latest_fire_coalesces_missed_runs(monthly_job):
    job = registry.PERIODIC["test.monthly"]
    start = datetime(2026, 10, 15, tzinfo=UTC)
    assert latest_fire(job, start, datetime(2026, 10, 31, tzinfo=UTC)) is None
    three_missed = datetime(2027, 1, 2, tzinfo=UTC)
    assert latest_fire(job, start, three_missed) == datetime(2027, 1, 1, 5, tzinfo=UTC)
    exactly = datetime(2026, 11, 1, 5, tzinfo=UTC)
    assert latest_fire(job, start, exactly) == exactly
    assert latest_fire(job, exactly, exactly) is None


def test_due_work_is_queued_once_and_run_by_a_worker(app, session, monthly_job):
    database = app.extensions["tributary.db"]
    assert beat(database, "sched-a", now=NOW, lease=LEASE)  # first sight: from now on
    assert queued(session) == []
    fire = datetime(2026, 12, 1, 5, tzinfo=UTC)
    assert beat(database, "sched-a", now=fire, lease=LEASE)
    assert beat(database, "sched-a", now=fire + timedelta(seconds=5), lease=LEASE)
    assert queued(session) == [
        (PERIODIC_TASK, {"job": "test.monthly", "due": "2026-12-01T05:00:00+00:00"})
    ]
    assert monthly_job == []  # the scheduler only schedules
    assert run_pending(database, now=fire + timedelta(seconds=6)) == 1
    assert monthly_job == [fire + timedelta(seconds=6)]


def test_a_run_missed_while_no_scheduler_was_up_is_caught_up(app, session, monthly_job):
    database = app.extensions["tributary.db"]
    assert beat(database, "sched-a", now=NOW, lease=LEASE)
    # Down from before the 1st until the 3rd (and it was another host that came back).
    back = datetime(2026, 12, 3, 9, tzinfo=UTC)
    assert beat(database, "sched-b", now=back, lease=LEASE)
    assert queued(session) == [
        (PERIODIC_TASK, {"job": "test.monthly", "due": "2026-12-01T05:00:00+00:00"})
    ]
    last = session.get(PeriodicRun, "test.monthly")
    assert last.last_fire_at == datetime(2026, 12, 1, 5, tzinfo=UTC)


def test_a_second_scheduler_schedules_nothing_until_the_lease_runs_out(app, session, monthly_job):
    database = app.extensions["tributary.db"]
    assert beat(database, "sched-a", now=NOW, lease=LEASE)
    fire = datetime(2026, 12, 1, 5, tzinfo=UTC)
    assert not beat(database, "sched-b", now=NOW + LEASE - timedelta(seconds=1), lease=LEASE)
    # A renewed lease holds it off again; a lapsed one (A died at 23:00) lets it in.
    assert beat(database, "sched-a", now=NOW + timedelta(seconds=20), lease=LEASE)
    assert not beat(database, "sched-b", now=NOW + timedelta(seconds=49), lease=LEASE)
    assert beat(database, "sched-b", now=fire, lease=LEASE)
    assert not beat(database, "sched-a", now=fire + timedelta(seconds=1), lease=LEASE)
    assert len(queued(session)) == 1
