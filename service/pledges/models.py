"""Pledges: what a company has committed to pay each project every month.

An approved proposal becomes pledges: one row per company and project, whose amount and
period follow the latest approval. A project paid by the approval gets (or keeps) an
``active`` pledge of the approved amount from that period; an active pledge of a project
the approval no longer pays is ``ended``. The daily check marks the pledge of a project
that left the company's inventory as ``ending`` (still owed for the current month, not
renewed: the next approval ends it); a project that comes back turns it active again.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from service.core.clock import utcnow


class PledgeStatus(enum.StrEnum):
    active = "active"
    ending = "ending"  # the project left the inventory; not renewed by the next approval
    ended = "ended"

    @property
    def paying(self) -> bool:
        return self in (PledgeStatus.active, PledgeStatus.ending)


class Pledge(SQLModel, table=True):
    __tablename__ = "pledges"
    __table_args__ = (UniqueConstraint("company_id", "project_id"),)

    id: int | None = Field(default=None, primary_key=True)
    company_id: int = Field(foreign_key="companies.id")  # indexed by the unique constraint
    project_id: int = Field(foreign_key="projects.id", index=True)
    amount_minor: int  # per month
    currency: str = Field(max_length=3)
    status: str = Field(default=PledgeStatus.active.value, max_length=20)
    from_period: str = Field(max_length=7)  # the period of the approval that set the amount
    proposal_id: int | None = Field(default=None, foreign_key="proposals.id")
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    ended_at: datetime | None = None
    status_reason: str | None = Field(default=None, max_length=500)
