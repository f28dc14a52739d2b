"""The ground floor's tables: outbound limits shared through the database (pauses, slots
and spacing), for processes without Redis."""

from __future__ import annotations

from sqlmodel import Field, SQLModel


class OutboundPause(SQLModel, table=True):
    """A pause every process honours: send nothing for ``key`` before ``until`` (epoch
    seconds)."""

    __tablename__ = "outbound_pauses"

    key: str = Field(primary_key=True, max_length=200)
    until: float


class OutboundSlot(SQLModel, table=True):
    """One of the requests a limit key allows in flight at once: free when ``until`` (the
    holder's lease, epoch seconds) has passed; ``token`` names the request holding it."""

    __tablename__ = "outbound_slots"

    key: str = Field(primary_key=True, max_length=200)
    slot: int = Field(primary_key=True, default=0)
    token: str | None = Field(default=None, max_length=40)
    until: float = 0.0


class OutboundSpacing(SQLModel, table=True):
    """When the next request to ``key`` may start, for a key whose source asks for a
    spacing between requests (epoch seconds)."""

    __tablename__ = "outbound_spacing"

    key: str = Field(primary_key=True, max_length=200)
    next_start: float
