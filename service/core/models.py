"""The ground floor's one table: outbound pauses shared through the database."""

from __future__ import annotations

from sqlmodel import Field, SQLModel


class OutboundPause(SQLModel, table=True):
    """A pause every process honours: send nothing for ``key`` before ``until`` (epoch
    seconds)."""

    __tablename__ = "outbound_pauses"

    key: str = Field(primary_key=True, max_length=200)
    until: float
