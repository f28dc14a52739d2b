"""Stored risk: a company's weights, dated score snapshots, the current score per project,
and the company's exposure over time.

A project's score is per company: two of its signals (`products_using`, `direct`) come
from that company's own SBOMs, and its weights from that company's policy.

- `RiskWeights`: the company's overrides of the default signal weights (only the
  signals it changed; the rest keep DESIGN's defaults).
- `RiskSnapshot`: the score of one project for one company as computed on `taken_on`.
  A new row is written only on a day the project's inputs changed (their digest differs
  from the last snapshot's); a second run on the same day updates that day's row. So a
  project's history is a step line: each row holds until the next one.
- `ProjectRisk`: the current score of each project the company depends on now (one
  row per company and project, removed when the project leaves the inventory). It is
  what the dependency table sorts and filters by, in SQL.
- `CompanyExposureSnapshot`: the company's exposure, one row per day it was computed.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from service.core.clock import utcnow

DIGEST_LENGTH = 64


class RiskWeights(SQLModel, table=True):
    __tablename__ = "risk_weights"

    company_id: int = Field(foreign_key="companies.id", primary_key=True)
    # {signal: weight} overriding DEFAULT_WEIGHTS; validated by scoring.resolve_weights.
    weights: dict[str, float] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow)
    updated_by_id: int | None = Field(default=None, foreign_key="users.id")


class RiskSnapshot(SQLModel, table=True):
    __tablename__ = "risk_snapshots"
    # The unique index also serves "this project's history" (company, project, by date).
    __table_args__ = (UniqueConstraint("company_id", "project_id", "taken_on"),)

    id: int | None = Field(default=None, primary_key=True)
    company_id: int = Field(foreign_key="companies.id")
    project_id: int = Field(foreign_key="projects.id", index=True)
    taken_on: date
    score: float | None = None  # 0..100; None when no weighted signal had data
    coverage: float = 0.0  # share of the total weight that had data, 0..1
    criticality: float | None = None
    dependence: float = 0.0  # see service.risk.exposure.dependence
    # [{signal, raw, normalized, weight, contribution, source, fetched_at}]
    breakdown: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    missing: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    inputs_digest: str = Field(max_length=DIGEST_LENGTH)
    computed_at: datetime = Field(default_factory=utcnow)


class ProjectRisk(SQLModel, table=True):
    __tablename__ = "project_risks"
    __table_args__ = (
        UniqueConstraint("company_id", "project_id"),
        # "Top unfunded risks": a company's projects by exposure, highest first.
        Index("ix_project_risks_company_exposure", "company_id", "exposure"),
    )

    id: int | None = Field(default=None, primary_key=True)
    company_id: int = Field(foreign_key="companies.id")
    project_id: int = Field(foreign_key="projects.id", index=True)
    taken_on: date
    score: float | None = None
    coverage: float = 0.0
    dependence: float = 0.0
    exposure: float = 0.0  # dependence x (score, or the neutral 50 when unscored)
    inputs_digest: str = Field(max_length=DIGEST_LENGTH)
    updated_at: datetime = Field(default_factory=utcnow)


class CompanyExposureSnapshot(SQLModel, table=True):
    __tablename__ = "company_exposure_snapshots"
    __table_args__ = (UniqueConstraint("company_id", "taken_on"),)

    id: int | None = Field(default=None, primary_key=True)
    company_id: int = Field(foreign_key="companies.id")  # indexed by the unique constraint
    taken_on: date
    exposure: float = 0.0  # sum of dependence x risk over the company's projects
    covered_exposure: float = 0.0  # the part held by projects with a sufficient pledge
    coverage_share: float = 0.0  # covered_exposure / exposure, 0..1
    coverage_reason: str | None = Field(default=None, max_length=200)
    unfunded_exposure: float = 0.0  # the part held by projects with no funding channel
    projects: int = 0
    unscored_projects: int = 0  # counted at the neutral risk 50
    computed_at: datetime = Field(default_factory=utcnow)
