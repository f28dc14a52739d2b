"""Enqueue work and run it: leased, at-least-once, retried with backoff, safe to kill.

A worker claims a due task and holds it under a lease that a heartbeat thread renews
while the handler works. A task whose lease ran out (its worker was killed, its host
lost) is due again for any worker. Every change after the claim names the worker and
the attempt that claimed it, so a worker that lost its lease never overwrites the state
written by the one that took the task over.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from service.core.clock import utcnow
from service.core.logs import log_context
from service.db import Database, retry_once_when_locked
from service.jobs.models import Task, TaskStatus
from service.jobs.registry import FOLLOW_UPS, TASKS, load_job_modules

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5
DEFAULT_LEASE = timedelta(seconds=60)
PENDING_STATUSES = (TaskStatus.queued, TaskStatus.running)


def worker_name() -> str:
    """This process among all hosts' workers (threads of one process share it)."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class Claim:
    """A task as one worker claimed it: the attempt number is the fence for its updates."""

    id: int
    kind: str
    payload: dict[str, Any]
    attempts: int
    worker: str


def enqueue(
    session: Session,
    kind: str,
    payload: dict[str, Any] | None = None,
    *,
    unique_key: str | None = None,
    company_id: int | None = None,
    run_after: datetime | None = None,
) -> Task:
    """Queue work in the caller's transaction, so it exists only if the change commits.

    With a unique key, work already queued or running under that key is returned instead;
    the database enforces it, so two processes queueing at once still make one task.
    """
    queued = Task(
        kind=kind,
        payload=payload or {},
        unique_key=unique_key,
        company_id=company_id,
        run_after=run_after or utcnow(),
    )
    if unique_key is None:
        session.add(queued)
        return queued
    pending = _pending_with_key(session, unique_key)
    if pending is not None:
        return pending
    try:
        with session.begin_nested():
            session.add(queued)
    except IntegrityError:
        # Another transaction queued the same key after our look: its task is the one.
        pending = _pending_with_key(session, unique_key)
        if pending is None:
            raise
        return pending
    return queued


def _pending_with_key(session: Session, unique_key: str) -> Task | None:
    return session.exec(
        select(Task).where(Task.unique_key == unique_key, col(Task.status).in_(PENDING_STATUSES))
    ).first()


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(30 * 2 ** (attempts - 1), 6 * 3600))


def _due(now: datetime):
    return or_(
        and_(Task.status == TaskStatus.queued, col(Task.run_after) <= now),
        and_(Task.status == TaskStatus.running, col(Task.lease_until) < now),
    )


@retry_once_when_locked
def claim(
    database: Database,
    worker: str,
    *,
    now: datetime,
    lease: timedelta,
    kinds: Collection[str] | None = None,
) -> Claim | None:
    """Take the next due task (queued, or running under a lease that ran out), or None."""
    with database.transaction() as session:
        while True:
            query = select(Task).where(_due(now)).order_by(col(Task.run_after), col(Task.id))
            if kinds:
                query = query.where(col(Task.kind).in_(list(kinds)))
            if session.get_bind().dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            task = session.exec(query.limit(1)).first()
            if task is None:
                return None
            if task.status == TaskStatus.running:
                log.warning(
                    "task %s (%s): the lease of %s ran out; another worker takes it over",
                    task.id,
                    task.kind,
                    task.worker,
                )
                if task.attempts >= MAX_ATTEMPTS:
                    _settle(task, TaskStatus.failed, now, f"lease ran out {task.attempts} times")
                    session.add(task)
                    continue
            task.status = TaskStatus.running
            task.attempts += 1
            task.worker = worker
            task.lease_until = now + lease
            task.started_at = now
            session.add(task)
            return Claim(task.id, task.kind, dict(task.payload), task.attempts, worker)


def _held(claimed: Claim):
    return and_(
        Task.id == claimed.id,
        Task.status == TaskStatus.running,
        Task.worker == claimed.worker,
        Task.attempts == claimed.attempts,
    )


def _settle(task: Task, status: TaskStatus, now: datetime, error: str | None) -> None:
    task.status = status
    task.worker = None
    task.lease_until = None
    task.last_error = error[:2000] if error else None
    task.finished_at = now


@retry_once_when_locked
def finish(database: Database, claimed: Claim, *, now: datetime, error: str | None) -> bool:
    """Record the outcome: done, queued again after backoff, or failed for good.

    False when the lease was lost meanwhile: the task belongs to another worker now.
    """
    with database.transaction() as session:
        task = session.exec(select(Task).where(_held(claimed)).with_for_update()).first()
        if task is None:
            log.warning(
                "task %s (%s): its lease was taken over; this run's outcome is dropped",
                claimed.id,
                claimed.kind,
            )
            return False
        if error is None:
            _settle(task, TaskStatus.done, now, None)
        elif task.attempts >= MAX_ATTEMPTS:
            _settle(task, TaskStatus.failed, now, error)
        else:
            _settle(task, TaskStatus.queued, now, error)
            task.run_after = now + backoff(task.attempts)
        session.add(task)
        return True


@retry_once_when_locked
def renew(
    database: Database, claims: Collection[Claim], *, now: datetime, lease: timedelta
) -> list[Claim]:
    """Extend the leases of tasks still held; returns the claims whose lease was lost."""
    lost = []
    with database.transaction() as session:
        for claimed in claims:
            renewed = session.exec(
                update(Task).where(_held(claimed)).values(lease_until=now + lease)
            )
            if renewed.rowcount == 0:
                lost.append(claimed)
    return lost


@retry_once_when_locked
def release(database: Database, claims: Collection[Claim]) -> None:
    """Give tasks back untried (a worker stopping before they finished)."""
    with database.transaction() as session:
        for claimed in claims:
            session.exec(
                update(Task)
                .where(_held(claimed))
                .values(
                    status=TaskStatus.queued,
                    worker=None,
                    lease_until=None,
                    attempts=Task.attempts - 1,
                )
            )


class Heartbeat:
    """Renews, from a thread of its own, the leases of the tasks this process runs."""

    def __init__(self, database: Database, lease: timedelta) -> None:
        self.database = database
        self.lease = lease
        self._held: dict[int, Claim] = {}
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lease-heartbeat", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stopped.set()
        self._thread.join()

    def hold(self, claimed: Claim) -> None:
        with self._lock:
            self._held[claimed.id] = claimed

    def drop(self, claimed: Claim) -> None:
        with self._lock:
            self._held.pop(claimed.id, None)

    def held(self) -> list[Claim]:
        with self._lock:
            return list(self._held.values())

    def _run(self) -> None:
        while not self._stopped.wait(self.lease.total_seconds() / 3):
            held = self.held()
            if not held:
                continue
            try:
                lost = renew(self.database, held, now=utcnow(), lease=self.lease)
            except Exception:  # the database may be back at the next beat, before the lease ends
                log.exception("could not renew the leases of %d task(s)", len(held))
                continue
            for claimed in lost:
                log.warning("task %s (%s): lease lost to another worker", claimed.id, claimed.kind)
                self.drop(claimed)


def run_one(
    database: Database,
    heartbeat: Heartbeat,
    worker: str,
    *,
    now: datetime | None = None,
    kinds: Collection[str] | None = None,
) -> Claim | None:
    """Claim one due task, run it under the heartbeat's lease, record the outcome."""
    claimed = claim(database, worker, now=now or utcnow(), lease=heartbeat.lease, kinds=kinds)
    if claimed is None:
        return None
    heartbeat.hold(claimed)
    handler = TASKS.get(claimed.kind)
    error = None
    with log_context(task_id=claimed.id, task_kind=claimed.kind, attempt=claimed.attempts):
        try:
            if handler is None:
                raise LookupError(f"no handler for task kind {claimed.kind!r}")
            handler(claimed.payload, now or utcnow())
            for follow_up in FOLLOW_UPS.get(claimed.kind, ()):
                follow_up(claimed.payload, now or utcnow())
        except Exception as exc:  # a failing task is recorded and retried, never fatal
            log.exception("task %s (%s) failed", claimed.id, claimed.kind)
            error = f"{type(exc).__name__}: {exc}"
        finally:
            heartbeat.drop(claimed)
        if finish(database, claimed, now=now or utcnow(), error=error):
            log.info(
                "task %s (%s) %s",
                claimed.id,
                claimed.kind,
                "done" if error is None else f"failed (attempt {claimed.attempts}): {error}",
            )
    return claimed


def run_pending(
    database: Database,
    *,
    now: datetime | None = None,
    limit: int | None = None,
    lease: timedelta = DEFAULT_LEASE,
    kinds: Collection[str] | None = None,
) -> int:
    """Run due tasks one at a time until none is left (or `limit` ran); returns how many."""
    load_job_modules()
    ran = 0
    with Heartbeat(database, lease) as heartbeat:
        while limit is None or ran < limit:
            if run_one(database, heartbeat, worker_name(), now=now, kinds=kinds) is None:
                break
            ran += 1
    return ran


def pending_keys(session: Session, unique_keys: Collection[str]) -> set[str]:
    """Which of these keys have work queued or running."""
    query = select(Task.unique_key).where(
        col(Task.unique_key).in_(list(unique_keys)), col(Task.status).in_(PENDING_STATUSES)
    )
    return set(session.exec(query).all())


def pending_count(session: Session, unique_key_prefix: str) -> int:
    query = select(Task).where(
        col(Task.unique_key).startswith(unique_key_prefix),
        col(Task.status).in_(PENDING_STATUSES),
    )
    return len(session.exec(query).all())
