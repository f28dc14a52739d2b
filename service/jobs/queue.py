"""Enqueue work and run it: at-least-once, retried with backoff, safe to restart."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from service.core.clock import utcnow
from service.db import Database
from service.jobs.models import Task, TaskStatus
from service.jobs.registry import TASKS, load_job_modules

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5


def enqueue(
    session: Session,
    kind: str,
    payload: dict[str, Any] | None = None,
    *,
    unique_key: str | None = None,
    company_id: int | None = None,
    run_after: datetime | None = None,
) -> Task:
    """Queue work in the caller's transaction, so it exists only if the change commits."""
    if unique_key:
        pending = session.exec(
            select(Task).where(
                Task.unique_key == unique_key,
                col(Task.status).in_([TaskStatus.queued, TaskStatus.running]),
            )
        ).first()
        if pending is not None:
            return pending
    queued = Task(
        kind=kind,
        payload=payload or {},
        unique_key=unique_key,
        company_id=company_id,
        run_after=run_after or utcnow(),
    )
    session.add(queued)
    return queued


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(30 * 2 ** (attempts - 1), 6 * 3600))


def _claim(database: Database, now: datetime) -> Task | None:
    with database.transaction() as session:
        query = (
            select(Task)
            .where(Task.status == TaskStatus.queued, col(Task.run_after) <= now)
            .order_by(col(Task.run_after), col(Task.id))
            .limit(1)
        )
        if session.bind.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        claimed = session.exec(query).first()
        if claimed is None:
            return None
        claimed.status = TaskStatus.running
        claimed.attempts += 1
        claimed.started_at = now
        session.add(claimed)
        return claimed


def _finish(database: Database, task_id: int, now: datetime, error: str | None) -> None:
    with database.transaction() as session:
        finished = session.get(Task, task_id)
        if error is None:
            finished.status = TaskStatus.done
        elif finished.attempts >= MAX_ATTEMPTS:
            finished.status = TaskStatus.failed
        else:
            finished.status = TaskStatus.queued
            finished.run_after = now + backoff(finished.attempts)
        finished.last_error = error[:2000] if error else None
        finished.finished_at = now
        session.add(finished)


def run_pending(database: Database, *, now: datetime | None = None, limit: int = 100) -> int:
    """Run up to `limit` due tasks, one at a time; returns how many ran."""
    load_job_modules()
    ran = 0
    while ran < limit:
        current = now or utcnow()
        claimed = _claim(database, current)
        if claimed is None:
            break
        handler = TASKS.get(claimed.kind)
        error = None
        try:
            if handler is None:
                raise LookupError(f"no handler for task kind {claimed.kind!r}")
            handler(claimed.payload, current)
        except Exception as exc:  # a failing task is recorded and retried, never fatal
            log.exception("task %s (%s) failed", claimed.id, claimed.kind)
            error = f"{type(exc).__name__}: {exc}"
        _finish(database, claimed.id, now or utcnow(), error)
        ran += 1
    return ran


def requeue_orphans(database: Database) -> int:
    """Tasks left 'running' by a process that died go back in the queue (at start-up)."""
    with database.transaction() as session:
        orphans = session.exec(select(Task).where(Task.status == TaskStatus.running)).all()
        for orphan in orphans:
            orphan.status = TaskStatus.queued
            session.add(orphan)
        return len(orphans)


def pending_count(session: Session, unique_key_prefix: str) -> int:
    query = select(Task).where(
        col(Task.unique_key).startswith(unique_key_prefix),
        col(Task.status).in_([TaskStatus.queued, TaskStatus.running]),
    )
    return len(session.exec(query).all())
