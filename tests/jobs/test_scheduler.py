"""The scheduler: one at a time, jobs persisted in the database, fire times from a clock."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from apscheduler.schedulers.background import BackgroundScheduler

from service.db import Database
from service.jobs import registry
from service.jobs.scheduler import SchedulerLock, configure, next_runs


@pytest.fixture
def monthly_job(monkeypatch):
    ran: list[datetime] = []
    monkeypatch.setitem(
        registry.PERIODIC,
        "test.monthly",
        registry.PeriodicJob("test.monthly", ran.append, {"day": 1, "hour": 5}, "Test job"),
    )
    return ran


def test_second_scheduler_on_sqlite_finds_the_lock_taken(tmp_path):
    database = Database(f"sqlite:///{tmp_path}/lock.db")
    first, second = SchedulerLock(database, tmp_path), SchedulerLock(database, tmp_path)
    assert first.acquire()
    assert not second.acquire()
    first.release()
    assert second.acquire()
    second.release()


@pytest.mark.postgres
def test_second_scheduler_on_postgresql_finds_the_advisory_lock_taken(fresh_postgres_url, tmp_path):
    database = Database(fresh_postgres_url)
    try:
        first = SchedulerLock(database, tmp_path / "a")
        second = SchedulerLock(database, tmp_path / "b")  # other machine: no shared file
        assert first.acquire()
        assert not second.acquire()
        first.release()
        assert second.acquire()
        second.release()
    finally:
        database.engine.dispose()


def test_next_fire_times_follow_the_clock(monthly_job):
    runs = next_runs(datetime(2026, 11, 30, 23, 0, tzinfo=UTC))
    assert runs["test.monthly"] == datetime(2026, 12, 1, 5, 0, tzinfo=UTC)
    runs = next_runs(datetime(2026, 12, 1, 5, 0, 1, tzinfo=UTC))
    assert runs["test.monthly"] == datetime(2027, 1, 1, 5, 0, tzinfo=UTC)


def test_jobs_persist_across_restarts_without_duplicates(tmp_path, monthly_job):
    database = Database(f"sqlite:///{tmp_path}/jobs.db")
    database.upgrade()
    try:
        for _restart in range(2):
            scheduler = BackgroundScheduler()
            configure(scheduler, database)
            scheduler.start(paused=True)
            persisted = [job for job in scheduler.get_jobs() if job.id == "test.monthly"]
            assert len(persisted) == 1
            job = persisted[0]
            assert job.coalesce and job.max_instances == 1
            assert job.next_run_time.day == 1 and job.next_run_time.hour == 5
            scheduler.shutdown(wait=False)
    finally:
        database.engine.dispose()
