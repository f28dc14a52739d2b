"""The append-only audit trail: who did what to which object, and when."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from service.core.clock import utcnow


class Event(SQLModel, table=True):
    __tablename__ = "events"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    actor_user_id: int | None = Field(default=None, foreign_key="users.id", index=True)
    actor_token_id: int | None = Field(default=None, foreign_key="api_tokens.id")
    # Free text for actors that are neither users nor tokens: "cli", "scheduler".
    actor_label: str | None = Field(default=None, max_length=80)
    company_id: int | None = Field(default=None, foreign_key="companies.id", index=True)
    action: str = Field(max_length=80, index=True)
    object_type: str | None = Field(default=None, max_length=60)
    object_id: str | None = Field(default=None, max_length=120)
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
