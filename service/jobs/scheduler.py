"""`tributary scheduler`: APScheduler in its own process, one at a time.

Periodic jobs live in the application database (a persistent job store) so missed runs are
coalesced after a restart; the task queue is drained every few seconds. A second scheduler
started by mistake finds the lock taken and exits without doing anything.
"""

from __future__ import annotations

import contextlib
import logging
from datetime import datetime
from pathlib import Path

from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from filelock import FileLock, Timeout
from flask import Flask
from sqlalchemy import text

from service.core.clock import utcnow
from service.db import Database
from service.jobs.queue import requeue_orphans, run_pending
from service.jobs.registry import PERIODIC, load_job_modules

log = logging.getLogger(__name__)
# An arbitrary constant naming Tributary's scheduler among PostgreSQL advisory locks.
ADVISORY_LOCK_KEY = 0x7472_6962  # "trib"
QUEUE_INTERVAL_SECONDS = 5
_app: Flask | None = None  # the app whose context jobs run in (set by run_scheduler)


class SchedulerLock:
    """Held for the scheduler's lifetime: an advisory lock on PostgreSQL, a file on SQLite."""

    def __init__(self, database: Database, instance_path: str) -> None:
        self._database = database
        self._path = Path(instance_path) / "scheduler.lock"
        self._connection = None
        self._file_lock: FileLock | None = None

    def acquire(self) -> bool:
        if self._database.engine.dialect.name == "postgresql":
            self._connection = self._database.engine.connect()
            got = self._connection.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_LOCK_KEY}
            ).scalar()
            self._connection.commit()
            if not got:
                self._connection.close()
                self._connection = None
            return bool(got)
        self._path.parent.mkdir(parents=True, exist_ok=True)
        self._file_lock = FileLock(str(self._path))
        try:
            self._file_lock.acquire(timeout=0)
        except Timeout:
            self._file_lock = None
            return False
        return True

    def release(self) -> None:
        if self._connection is not None:
            self._connection.execute(
                text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_LOCK_KEY}
            )
            self._connection.close()
            self._connection = None
        if self._file_lock is not None:
            self._file_lock.release()
            self._file_lock = None


def run_periodic(job_id: str) -> None:
    """Entry point APScheduler stores by name; runs one registered periodic job."""
    load_job_modules()
    assert _app is not None, "run_periodic runs only inside `tributary scheduler`"
    with _app.app_context():
        PERIODIC[job_id].func(utcnow())


def drain_queue() -> None:
    assert _app is not None
    with _app.app_context():
        run_pending(_app.extensions["tributary.db"])


def configure(scheduler: BaseScheduler, database: Database) -> None:
    """Add the job stores and every registered periodic job (replacing stale definitions)."""
    load_job_modules()
    scheduler.configure(
        jobstores={
            "default": SQLAlchemyJobStore(engine=database.engine, tablename="apscheduler_jobs"),
            "memory": MemoryJobStore(),
        },
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 6 * 3600},
        timezone="UTC",
    )
    for job in PERIODIC.values():
        scheduler.add_job(
            "service.jobs.scheduler:run_periodic",
            CronTrigger(timezone="UTC", **job.cron),
            args=[job.id],
            id=job.id,
            name=job.description,
            replace_existing=True,
        )
    scheduler.add_job(
        drain_queue,
        "interval",
        seconds=QUEUE_INTERVAL_SECONDS,
        id="queue",
        jobstore="memory",
        next_run_time=utcnow(),
    )


def next_runs(now: datetime | None = None) -> dict[str, datetime | None]:
    """When each periodic job would next fire after `now` (for the CLI and tests)."""
    load_job_modules()
    now = now or utcnow()
    return {
        job.id: CronTrigger(timezone="UTC", **job.cron).get_next_fire_time(None, now)
        for job in PERIODIC.values()
    }


def run_scheduler(app: Flask) -> int:
    """Run until interrupted; returns an exit status (1 if another scheduler holds the lock)."""
    global _app
    database: Database = app.extensions["tributary.db"]
    lock = SchedulerLock(database, app.instance_path)
    if not lock.acquire():
        log.error("Another Tributary scheduler is running against this database; exiting.")
        return 1
    _app = app
    try:
        orphans = requeue_orphans(database)
        if orphans:
            log.warning("Requeued %d task(s) left running by a previous scheduler.", orphans)
        scheduler = BlockingScheduler()
        configure(scheduler, database)
        log.info("Scheduler started with jobs: %s", ", ".join(sorted(PERIODIC)) or "none")
        with contextlib.suppress(KeyboardInterrupt, SystemExit):
            scheduler.start()
        return 0
    finally:
        lock.release()
        _app = None
