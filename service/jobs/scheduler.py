"""`tributary scheduler`: enqueues periodic work when it comes due; workers run it.

One scheduler schedules at a time. It holds a lease row (`scheduler_lease`) that it renews
on every beat, in the same transaction that enqueues the beat's work, so a scheduler that
lost its lease (its connection cut, its host paused) enqueues nothing; others stand by
and take over when the lease runs out. Each job's last fire time is stored
(`periodic_runs`), so a run missed while no scheduler was up is enqueued at the next
beat (several missed runs of one job make one task).
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta

from apscheduler.triggers.cron import CronTrigger
from flask import Flask
from sqlmodel import Session, select

from service.core.clock import utcnow
from service.core.services import get_settings
from service.db import Database, get_db, insert_for, retry_once_when_locked
from service.jobs.models import PeriodicRun, SchedulerLease
from service.jobs.queue import enqueue, worker_name
from service.jobs.registry import PERIODIC, PeriodicJob, load_job_modules

log = logging.getLogger(__name__)
BEAT_SECONDS = 5.0
LEASE_NAME = "scheduler"
PERIODIC_TASK = "jobs.periodic"  # run by service.jobs.jobs


def _trigger(job: PeriodicJob) -> CronTrigger:
    return CronTrigger(timezone="UTC", **job.cron)


def next_runs(now: datetime | None = None) -> dict[str, datetime | None]:
    """When each periodic job would next fire after `now` (for the CLI and tests)."""
    load_job_modules()
    now = now or utcnow()
    return {job.id: _trigger(job).get_next_fire_time(None, now) for job in PERIODIC.values()}


def latest_fire(job: PeriodicJob, after: datetime, now: datetime) -> datetime | None:
    """The last fire time of `job` in (after, now], or None when it did not fire."""
    trigger, latest = _trigger(job), None
    fire = trigger.get_next_fire_time(after, now)
    while fire is not None and fire <= now:
        latest = fire
        fire = trigger.get_next_fire_time(fire, fire)
    return latest


def _hold_lease(session: Session, holder: str, now: datetime, lease: timedelta) -> bool:
    insert = insert_for(session)
    session.exec(
        insert(SchedulerLease)
        .values(name=LEASE_NAME, holder=holder, lease_until=now + lease)
        .on_conflict_do_nothing(index_elements=["name"])
    )
    row = session.exec(
        select(SchedulerLease).where(SchedulerLease.name == LEASE_NAME).with_for_update()
    ).one()
    if row.holder != holder and row.lease_until > now:
        return False
    row.holder, row.lease_until = holder, now + lease
    session.add(row)
    return True


def _enqueue_due(session: Session, job: PeriodicJob, now: datetime) -> None:
    run = session.get(PeriodicRun, job.id)
    if run is None:
        # A job seen for the first time fires from now on, not for its whole past.
        session.add(PeriodicRun(job_id=job.id, last_fire_at=now))
        return
    due = latest_fire(job, run.last_fire_at, now)
    if due is None:
        return
    queued = enqueue(
        session,
        PERIODIC_TASK,
        {"job": job.id, "due": due.isoformat()},
        unique_key=f"periodic:{job.id}",
    )
    run.last_fire_at = due
    session.add(run)
    session.flush()
    log.info("periodic job %s due at %s: queued as task %s", job.id, due, queued.id)


@retry_once_when_locked
def beat(database: Database, holder: str, *, now: datetime, lease: timedelta) -> bool:
    """Renew the lease and enqueue every periodic job that came due; False if not held."""
    load_job_modules()
    with database.transaction() as session:
        if not _hold_lease(session, holder, now, lease):
            return False
        for job in PERIODIC.values():
            _enqueue_due(session, job, now)
    return True


@retry_once_when_locked
def give_up_lease(database: Database, holder: str, now: datetime) -> None:
    """End our lease at once, so a standing-by scheduler takes over at its next beat."""
    with database.transaction() as session:
        row = session.get(SchedulerLease, LEASE_NAME)
        if row is not None and row.holder == holder:
            row.lease_until = now
            session.add(row)


class Scheduler:
    """Beats until stopped: schedules while it holds the lease, stands by otherwise."""

    def __init__(self, app: Flask, *, beat_seconds: float = BEAT_SECONDS) -> None:
        settings = get_settings(app)
        self.database = get_db(app)
        self.holder = worker_name()
        self.lease = timedelta(seconds=settings.scheduler_lease_seconds)
        self.beat_seconds = min(beat_seconds, self.lease.total_seconds() / 3)
        self.stopping = threading.Event()
        self.holding: bool | None = None  # unknown until the first beat

    def serve(self) -> None:
        load_job_modules()
        log.info("scheduler %s started; jobs: %s", self.holder, ", ".join(sorted(PERIODIC)))
        while not self.stopping.is_set():
            self.beat()
            self.stopping.wait(self.beat_seconds)
        if self.holding:
            give_up_lease(self.database, self.holder, utcnow())
        log.info("scheduler %s stopped", self.holder)

    def beat(self) -> None:
        try:
            held = beat(self.database, self.holder, now=utcnow(), lease=self.lease)
        except Exception:  # a lost connection: nothing was enqueued; try again next beat
            log.exception("scheduler beat failed; nothing was scheduled")
            held = False
        if held != self.holding:
            if held:
                log.info("scheduler %s holds the lease: scheduling", self.holder)
            else:
                log.warning("scheduler %s does not hold the lease: standing by", self.holder)
        self.holding = held

    def stop(self) -> None:
        self.stopping.set()
