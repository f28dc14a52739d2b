"""The durable task queue, and the state of the one scheduler: work that must not run
inside a web request."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Enum, Index, text
from sqlmodel import Field, SQLModel

from service.core.clock import utcnow


class TaskStatus(enum.StrEnum):
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"


# A key names work that must not be queued twice at once: the database refuses a second
# queued or running task with the same key, whichever process inserts it.
PENDING = text("status IN ('queued', 'running')")


class Task(SQLModel, table=True):
    __tablename__ = "tasks"
    __table_args__ = (
        Index("ix_tasks_due", "status", "run_after"),
        Index(
            "uq_tasks_pending_key",
            "unique_key",
            unique=True,
            postgresql_where=PENDING,
            sqlite_where=PENDING,
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=80)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # Work with the same key is queued once at a time (e.g. "resolve:product:12").
    unique_key: str | None = Field(default=None, max_length=200, index=True)
    company_id: int | None = Field(default=None, foreign_key="companies.id", index=True)
    status: TaskStatus = Field(
        default=TaskStatus.queued,
        sa_column=Column(Enum(TaskStatus, native_enum=False, length=16), nullable=False),
    )
    attempts: int = 0
    run_after: datetime = Field(default_factory=utcnow)
    # While running: which worker holds the task, and until when (renewed as it works).
    worker: str | None = Field(default=None, max_length=200)
    lease_until: datetime | None = None
    last_error: str | None = Field(default=None, max_length=2000)
    created_at: datetime = Field(default_factory=utcnow)
    started_at: datetime | None = None
    finished_at: datetime | None = None


class SchedulerLease(SQLModel, table=True):
    """One row: the scheduler that may enqueue periodic work, until its lease runs out."""

    __tablename__ = "scheduler_lease"

    name: str = Field(primary_key=True, max_length=40)
    holder: str = Field(max_length=200)
    lease_until: datetime


class PeriodicRun(SQLModel, table=True):
    """The last fire time each periodic job was enqueued for, so missed runs are caught up."""

    __tablename__ = "periodic_runs"

    job_id: str = Field(primary_key=True, max_length=80)
    last_fire_at: datetime
