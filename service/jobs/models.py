"""The durable task queue: work that must not run inside a web request."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Enum, Index
from sqlmodel import Field, SQLModel

from service.core.clock import utcnow


class TaskStatus(enum.StrEnum):
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"


class Task(SQLModel, table=True):
    __tablename__ = "tasks"
    __table_args__ = (Index("ix_tasks_due", "status", "run_after"),)

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
    last_error: str | None = Field(default=None, max_length=2000)
    created_at: datetime = Field(default_factory=utcnow)
    started_at: datetime | None = None
    finished_at: datetime | None = None
