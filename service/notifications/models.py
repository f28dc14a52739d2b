"""Notices for people, shared by every domain (a lapsed claim, a proposal ready or approved).

A notice is shown once on the person's next page view (then marked read) and stays in
the list of recent notices. `company_id` and `link` are set when the notice is about a
company's data (e.g. a proposal to review); claims notices have neither.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from service.core.clock import utcnow


class Notification(SQLModel, table=True):
    """A notice for a person, shown once on their next visit (e.g. a claim lapsed)."""

    __tablename__ = "notifications"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    company_id: int | None = Field(default=None, foreign_key="companies.id", index=True)
    kind: str = Field(max_length=40)
    message: str = Field(max_length=1000)
    # A path inside Tributary ("/c/acme/proposals/2026-12"), never an outside URL.
    link: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow)
    read_at: datetime | None = None
