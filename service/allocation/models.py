"""Stored allocation: each company's policy, monthly proposals with their lines, and the
OSPO's adjustments to them.

- `AllocationPolicy`: the company's allocation policy (``Policy.to_dict`` JSON, amounts as
  decimal strings in the company's currency), whether approvals need a second person
  (four eyes), and where to announce proposals (e-mail, a signed webhook).
- `Proposal`: one computed split for one period ("YYYY-MM"). Every regeneration of a
  period is a new *revision*; the one it replaces becomes ``superseded``. An approved
  revision is never replaced. States::

      draft ──submit──▶ in_review ──approve──▶ approved
        │                   │  └──reject──▶ rejected
        └──approve/reject───┘
      draft / in_review ──(a newer revision)──▶ superseded

- `ProposalLine`: what the engine said about one project — a paid ``line``, an amount
  ``held`` for an unclaimed project, or ``omitted`` with its reason code.
- `Adjustment`: an OSPO change to one project in one proposal (boost, exclude, override,
  pin a minimum). Recomputing applies the active ones through the engine; a removed
  adjustment keeps its row (``removed_at``) for the record.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from service.core.clock import utcnow

PERIOD_LENGTH = 7  # "YYYY-MM"
KEY_LENGTH = 300


class ProposalState(enum.StrEnum):
    draft = "draft"
    in_review = "in_review"
    approved = "approved"
    rejected = "rejected"
    superseded = "superseded"

    @property
    def open(self) -> bool:
        """Still being reviewed: can be adjusted, approved, rejected or superseded."""
        return self in (ProposalState.draft, ProposalState.in_review)


OPEN_STATES = (ProposalState.draft.value, ProposalState.in_review.value)


class LineKind(enum.StrEnum):
    line = "line"  # paid this month
    held = "held"  # reserved for an unclaimed project
    catch_up = "catch_up"  # paid from earlier months' reserve, beside the month's line
    omitted = "omitted"  # gets nothing this month, with the reason


class AdjustmentKind(enum.StrEnum):
    boost = "boost"  # value: the multiplier, a decimal string ("1.5")
    exclude = "exclude"  # value: empty
    override = "override"  # value: the amount in minor units ("25000")
    pin_minimum = "pin_minimum"  # value: the guaranteed amount in minor units


class AllocationPolicy(SQLModel, table=True):
    __tablename__ = "allocation_policies"

    company_id: int = Field(foreign_key="companies.id", primary_key=True)
    # Policy.to_dict(currency): every field of the policy, amounts as decimal strings.
    policy: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # Approvals need a second person: whoever changed the proposal last cannot approve it.
    # On for every new company (and with no policy saved).
    four_eyes: bool = True
    notify_email: bool = True
    webhook_url: str | None = Field(default=None, max_length=1000)
    # Sealed with the app's SecretBox; never shown again once saved.
    webhook_secret: str | None = Field(default=None, max_length=1000)
    updated_by_id: int | None = Field(default=None, foreign_key="users.id")
    updated_at: datetime = Field(default_factory=utcnow)


class Proposal(SQLModel, table=True):
    __tablename__ = "proposals"
    __table_args__ = (
        # Also serves "this company's proposals by period".
        UniqueConstraint("company_id", "period", "revision"),
    )

    id: int | None = Field(default=None, primary_key=True)
    company_id: int = Field(foreign_key="companies.id")
    period: str = Field(max_length=PERIOD_LENGTH)
    revision: int = 1
    state: str = Field(default=ProposalState.draft.value, max_length=20)
    budget_minor: int = Field(default=0, sa_type=BigInteger)
    currency: str = Field(max_length=3)
    paid_minor: int = Field(default=0, sa_type=BigInteger)  # the sum of the paid lines
    held_minor: int = Field(default=0, sa_type=BigInteger)
    remainder_minor: int = Field(default=0, sa_type=BigInteger)
    cap_minor: int | None = Field(default=None, sa_type=BigInteger)
    cap_relaxed: bool = False
    minimum_minor: int = Field(default=0, sa_type=BigInteger)
    granularity: int = 1
    # The policy as applied (Policy.to_dict), kept with the proposal it produced.
    policy: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # Inputs at generation: products, packages, unresolved packages, projects.
    stats: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # "scheduler", "cli" or "user"; generated_by_id is the user when a person generated it.
    generated_by: str = Field(default="user", max_length=80)
    generated_by_id: int | None = Field(default=None, foreign_key="users.id")
    created_at: datetime = Field(default_factory=utcnow)
    computed_at: datetime = Field(default_factory=utcnow)
    submitted_at: datetime | None = None
    submitted_by_id: int | None = Field(default=None, foreign_key="users.id")
    # The last person who changed it (generated it, adjusted it, changed the policy while
    # it was open); four eyes checks this.
    last_edited_by_id: int | None = Field(default=None, foreign_key="users.id")
    # Whether four eyes was on at any time while it was open (see allocation.review).
    four_eyes: bool = False
    decided_by_id: int | None = Field(default=None, foreign_key="users.id")
    decided_at: datetime | None = None
    decision_comment: str | None = Field(default=None, max_length=2000)


class ProposalLine(SQLModel, table=True):
    __tablename__ = "proposal_lines"
    __table_args__ = (Index("ix_proposal_lines_proposal_kind", "proposal_id", "kind"),)

    id: int | None = Field(default=None, primary_key=True)
    proposal_id: int = Field(foreign_key="proposals.id")
    project_id: int = Field(foreign_key="projects.id", index=True)
    project_key: str = Field(max_length=KEY_LENGTH)
    kind: str = Field(max_length=10)
    amount_minor: int = Field(default=0, sa_type=BigInteger)
    share: float = 0.0
    weight: float = 0.0
    risk: float | None = None
    # The largest contributions to the risk score: [[signal, contribution], ...].
    risk_breakdown: list[Any] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # [{"name": product, "depth": shallowest depth or null}]
    products: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    # The rest of the engine's input for this project, so recomputing after an adjustment
    # uses exactly what was generated (a fresh "Preview now" reads everything again).
    claimed: bool = False
    first_party: bool = False
    ecosystem: str | None = Field(default=None, max_length=40)
    months_held: int = 0
    reason: str = Field(default="", sa_column=Column(Text, nullable=False))
    # What the engine did to the line: capped, boosted, overridden, pinned.
    flags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    omitted_code: str | None = Field(default=None, max_length=40)


class Adjustment(SQLModel, table=True):
    __tablename__ = "proposal_adjustments"

    id: int | None = Field(default=None, primary_key=True)
    proposal_id: int = Field(foreign_key="proposals.id", index=True)
    project_id: int = Field(foreign_key="projects.id")
    kind: str = Field(max_length=20)
    value: str = Field(default="", max_length=40)
    note: str | None = Field(default=None, max_length=500)
    user_id: int | None = Field(default=None, foreign_key="users.id")
    created_at: datetime = Field(default_factory=utcnow)
    removed_at: datetime | None = None
    removed_by_id: int | None = Field(default=None, foreign_key="users.id")
