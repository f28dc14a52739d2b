"""Pledges and payments: what a company committed to pay each project for a month, and
what it paid.

- `Pledge`: one per company, project, period ("YYYY-MM") and source. An approved proposal
  makes one ``proposal`` pledge for every paid line; an owner or reviewer can add a
  ``manual`` one (one-off, or monthly: the daily job repeats it into each new month).
  It keeps the maintainers' payout channels as they were when it was made, and is due on
  the company's due day of the month after its period. States (see
  service.pledges.lifecycle)::

      pledged ──payment──▶ partially_paid ──payment──▶ paid
         │  └───────────── payment (all of it) ───────▶ paid
         ├──(past due, daily job)──▶ overdue ──payment (the rest)──▶ paid
         └──cancel (owner, reason)──▶ cancelled   (from any state but paid)

  ``exported_at`` says the pledge went into a payment platform's file; it is not a state.
- `Payment`: money recorded against a pledge (by hand or from an imported receipt). A
  payment above what is still owed needs an explicit confirmation and keeps
  ``overpayment`` set.
- `PledgeSettings`: a company's pledge policy (the due day).
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from service.core.clock import utcnow

DEFAULT_DUE_DAY = 15


class PledgeState(enum.StrEnum):
    pledged = "pledged"
    partially_paid = "partially_paid"
    paid = "paid"
    overdue = "overdue"
    cancelled = "cancelled"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


class PledgeSource(enum.StrEnum):
    proposal = "proposal"
    manual = "manual"


class Recurrence(enum.StrEnum):
    once = "once"
    monthly = "monthly"


class Pledge(SQLModel, table=True):
    __tablename__ = "pledges"
    __table_args__ = (UniqueConstraint("company_id", "project_id", "period", "source"),)

    id: int | None = Field(default=None, primary_key=True)
    company_id: int = Field(foreign_key="companies.id")  # indexed by the unique constraint
    project_id: int = Field(foreign_key="projects.id", index=True)
    period: str = Field(max_length=7)
    amount_minor: int = Field(sa_type=BigInteger)
    currency: str = Field(max_length=3)
    paid_minor: int = Field(default=0, sa_type=BigInteger)  # the sum of its payments
    state: str = Field(default=PledgeState.pledged.value, max_length=20, index=True)
    source: str = Field(default=PledgeSource.proposal.value, max_length=20)
    recurrence: str = Field(default=Recurrence.once.value, max_length=20)
    repeats_id: int | None = Field(default=None, foreign_key="pledges.id")  # a monthly original
    note: str | None = Field(default=None, max_length=1000)
    proposal_id: int | None = Field(default=None, foreign_key="proposals.id")
    due_on: date
    # {"maintainers": [{user_id, login, share_bp, channels: [{kind, value, url, preferred}]}],
    #  "project": [{kind, handle, url, source}]} as they were when the pledge was made.
    channels: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    exported_at: datetime | None = None
    cancel_reason: str | None = Field(default=None, max_length=500)
    created_by_id: int | None = Field(default=None, foreign_key="users.id")
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class Payment(SQLModel, table=True):
    __tablename__ = "pledge_payments"

    id: int | None = Field(default=None, primary_key=True)
    company_id: int = Field(foreign_key="companies.id", index=True)
    pledge_id: int = Field(foreign_key="pledges.id", index=True)
    amount_minor: int = Field(sa_type=BigInteger)
    currency: str = Field(max_length=3)
    paid_on: date
    platform: str = Field(max_length=40)
    reference: str | None = Field(default=None, max_length=200)
    overpayment: bool = False  # confirmed: it took the pledge above its amount
    receipt_id: int | None = Field(default=None, foreign_key="receipts.id")  # when imported
    recorded_by_id: int | None = Field(default=None, foreign_key="users.id")
    created_at: datetime = Field(default_factory=utcnow)


class PledgeSettings(SQLModel, table=True):
    __tablename__ = "pledge_settings"

    company_id: int = Field(foreign_key="companies.id", primary_key=True)
    due_day: int = DEFAULT_DUE_DAY  # pledges are due on this day of the following month
    # Maintainers see the company's pledges to them as from "anonymous company".
    anonymous: bool = False
    # Published: anyone may read what it pledged and paid, by month and by project.
    public: bool = False
    updated_at: datetime = Field(default_factory=utcnow)


class PledgeExport(SQLModel, table=True):
    """A payment file made for a company's month: who made it, when, its checksum, what
    it left out and which pledges it carried."""

    __tablename__ = "pledge_exports"

    id: int | None = Field(default=None, primary_key=True)
    company_id: int = Field(foreign_key="companies.id", index=True)
    period: str = Field(max_length=7)
    kind: str = Field(max_length=30)  # github-sponsors | open-collective | csv | json
    checksum: str = Field(max_length=64)  # SHA-256 over the files' names and contents
    files: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )  # [{name, sha256, rows, content}]: the files exactly as made
    left_out: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    pledge_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    made_by_id: int | None = Field(default=None, foreign_key="users.id")
    made_by_label: str | None = Field(default=None, max_length=80)
    created_at: datetime = Field(default_factory=utcnow)


class ReceiptMapping(SQLModel, table=True):
    """The columns a company last mapped for a preset: proposed again next time."""

    __tablename__ = "receipt_mappings"

    company_id: int = Field(foreign_key="companies.id", primary_key=True)
    preset: str = Field(max_length=30, primary_key=True)
    mapping: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow)


class ReceiptImport(SQLModel, table=True):
    """An uploaded receipts file: ``pending`` until its mapping is confirmed, then
    ``done`` with the report of every row."""

    __tablename__ = "receipt_imports"

    id: int | None = Field(default=None, primary_key=True)
    company_id: int = Field(foreign_key="companies.id", index=True)
    preset: str = Field(max_length=30)
    filename: str = Field(max_length=300)
    encoding: str | None = Field(default=None, max_length=20)  # asked, or None: detected
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    status: str = Field(default="pending", max_length=20)
    # [{row, status: matched|unmatched|skipped|already_imported, reason, amount, ...}]
    report: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    created_by_id: int | None = Field(default=None, foreign_key="users.id")
    created_at: datetime = Field(default_factory=utcnow)
    done_at: datetime | None = None


class Receipt(SQLModel, table=True):
    """An imported row that became payments; its fingerprint makes a re-import harmless."""

    __tablename__ = "receipts"
    __table_args__ = (UniqueConstraint("company_id", "fingerprint"),)

    id: int | None = Field(default=None, primary_key=True)
    company_id: int = Field(foreign_key="companies.id")
    import_id: int = Field(foreign_key="receipt_imports.id", index=True)
    row: int
    fingerprint: str = Field(max_length=64)
    platform: str = Field(max_length=40)
    account: str = Field(max_length=200)
    amount_minor: int = Field(sa_type=BigInteger)
    currency: str = Field(max_length=3)
    paid_on: date
