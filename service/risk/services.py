# ruff: noqa: RUF002, RUF003 - docstrings use × as DESIGN.md writes it
"""Risk as the rest of Tributary uses it: weights, recomputing scores, reading them back.

`recompute_company` is the one entry point that writes scores (the nightly job, the task
queued after resolution, the "Recompute now" button and `tributary risk recompute`).
It reads the company's inventory and stored metadata (no network), scores every project
with the company's weights and compares each project's inputs digest with its current
one: only projects whose inputs changed get a snapshot for today (a second run on the
same day updates that row — an upsert, so running it twice changes nothing). The
company's exposure is then written for today.

Functions that change state take the session and an Actor, record their audit event and
leave the commit to the caller.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, exists, func, or_
from sqlalchemy import select as sa_select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from service.audit.services import Actor, changes, record
from service.companies.models import Company
from service.companies.services import require_owner
from service.core.clock import utcnow
from service.db import upsert
from service.projects.models import (
    ClaimStatus,
    FundingChannel,
    PayoutChannel,
    Project,
    ProjectClaim,
)
from service.risk.exposure import (
    NO_PLEDGES,
    PledgeCoverage,
    exposure_of,
    pledge_coverage,
)
from service.risk.gather import ProjectInputs, gather
from service.risk.hooks import proposed_amounts
from service.risk.models import CompanyExposureSnapshot, ProjectRisk, RiskSnapshot, RiskWeights
from service.risk.scoring import resolve_weights, score
from service.risk.signals import DEFAULT_WEIGHTS, InvalidSignalError
from service.sboms.models import Sbom

RECOMPUTE_TASK = "risk.recompute_company"
CHUNK = 400
MAX_WEIGHT = 1000


def recompute_key(company_id: int) -> str:
    return f"risk:company:{company_id}"


class RiskError(ValueError):
    """A risk request that cannot be carried out; `field` names the input at fault."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


# Weights -------------------------------------------------------------------------------------


def weight_overrides(session: Session, company_id: int) -> dict[str, float]:
    """The company's changes to the default weights (empty: all defaults)."""
    row = session.get(RiskWeights, company_id)
    return dict(row.weights) if row else {}


def effective_weights(session: Session, company_id: int) -> dict[str, float]:
    return resolve_weights(weight_overrides(session, company_id))


def set_weights(
    session: Session, actor: Actor, company: Company, weights: Mapping[str, Any]
) -> dict[str, float]:
    """Store the company's weights (only those that differ from the defaults are kept).

    Raises RiskError naming the field (`weights.publishers`) for a bad value.
    """
    require_owner(session, actor, company.id, "the risk weights")
    try:
        resolved = resolve_weights(weights)
    except InvalidSignalError as exc:
        raise RiskError(exc.message, exc.field) from None
    for name, value in resolved.items():
        if value > MAX_WEIGHT:
            raise RiskError(
                f"weights.{name}: expected a number from 0 to {MAX_WEIGHT}, got {value:g}",
                f"weights.{name}",
            )
    if not any(value > 0 for value in resolved.values()):
        raise RiskError("weights: at least one weight must be above 0", "weights")
    overrides = {n: v for n, v in resolved.items() if v != DEFAULT_WEIGHTS[n]}
    row = session.get(RiskWeights, company.id)
    before = resolve_weights(row.weights if row else {})
    if row is None:
        row = RiskWeights(company_id=company.id)
    row.weights = overrides
    row.updated_at = utcnow()
    row.updated_by_id = actor.user_id
    session.add(row)
    record(
        session,
        actor,
        "risk.weights_changed",
        company_id=company.id,
        obj=row,
        **changes(before, resolved),
    )
    return overrides


# Recomputing -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecomputeReport:
    taken_on: date
    projects: int
    changed: int
    removed: int
    exposure: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "taken_on": self.taken_on.isoformat(),
            "projects": self.projects,
            "changed": self.changed,
            "removed": self.removed,
            "exposure": round(self.exposure, 2),
        }


def inputs_digest(
    signals: Mapping[str, Mapping[str, Any]], weights: Mapping[str, float], dependence: float
) -> str:
    """What the score depends on: signal values and sources, the weights, the dependence.

    Fetch times are left out, so a refresh that confirms the same values writes nothing.
    """
    payload = {
        "signals": {name: [s.get("value"), s.get("source")] for name, s in signals.items()},
        "weights": dict(weights),
        "dependence": round(dependence, 6),
    }
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def breakdown_rows(result) -> list[dict[str, Any]]:
    return [{**line.to_dict(), "fetched_at": line.fetched_at} for line in result.breakdown]


def recompute_company(
    session: Session,
    company: Company,
    *,
    actor: Actor | None = None,
    now: datetime | None = None,
) -> RecomputeReport:
    """Rescore the company's projects and write today's snapshots and exposure.

    With an actor (a person or the CLI asked for it) the run is recorded in the audit
    trail; scheduled runs are recorded only when a score changed.
    """
    now = now or utcnow()
    today = now.date()
    weights = effective_weights(session, company.id)
    _inventory, inputs = gather(session, company.id, now)
    current: dict[int, str] = dict(
        session.exec(
            select(ProjectRisk.project_id, ProjectRisk.inputs_digest).where(
                ProjectRisk.company_id == company.id
            )
        ).all()
    )
    snapshots: list[dict[str, Any]] = []
    currents: list[dict[str, Any]] = []
    for project_id, item in inputs.items():
        digest = inputs_digest(item.signals, weights, item.dependence)
        if current.get(project_id) != digest:  # else nothing it is scored on changed
            snapshot, latest = _score_rows(company.id, project_id, item, weights, digest, now)
            snapshots.append(snapshot)
            currents.append(latest)
    gone = sorted(set(current) - set(inputs))
    _write_scores(session, company.id, snapshots, currents, gone)
    exposure = _write_exposure(session, company, today, now)
    # The writes above bypass the ORM: rows of these tables already loaded are stale.
    for loaded in list(session.identity_map.values()):
        if isinstance(loaded, RiskSnapshot | ProjectRisk | CompanyExposureSnapshot):
            session.expire(loaded)
    report = RecomputeReport(today, len(inputs), len(snapshots), len(gone), exposure.exposure)
    if actor is not None and (actor.user_id or actor.token_id or snapshots or gone):
        record(session, actor, "risk.recomputed", company_id=company.id, **report.as_dict())
    return report


def _score_rows(
    company_id: int,
    project_id: int,
    item: ProjectInputs,
    weights: Mapping[str, float],
    digest: str,
    now: datetime,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The project's score as today's snapshot row and as its current row."""
    result = score(item.signals, weights)
    common = {
        "company_id": company_id,
        "project_id": project_id,
        "taken_on": now.date(),
        "score": result.score,
        "coverage": result.coverage,
        "dependence": item.dependence,
        "inputs_digest": digest,
    }
    snapshot = common | {
        "criticality": result.criticality,
        "breakdown": breakdown_rows(result),
        "missing": list(result.missing),
        "computed_at": now,
    }
    latest = common | {"exposure": exposure_of(item.dependence, result.score), "updated_at": now}
    return snapshot, latest


def _write_scores(
    session: Session,
    company_id: int,
    snapshots: list[dict[str, Any]],
    currents: list[dict[str, Any]],
    gone: list[int],
) -> None:
    """Store the new snapshots and current scores; drop projects no longer in use."""
    upsert(
        session,
        RiskSnapshot.__table__,
        snapshots,
        ["company_id", "project_id", "taken_on"],
        chunk=CHUNK,
    )
    upsert(session, ProjectRisk.__table__, currents, ["company_id", "project_id"], chunk=CHUNK)
    for start in range(0, len(gone), CHUNK):
        session.exec(
            delete(ProjectRisk).where(
                ProjectRisk.company_id == company_id,
                col(ProjectRisk.project_id).in_(gone[start : start + CHUNK]),
            )
        )


def _write_exposure(
    session: Session, company: Company, today: date, now: datetime
) -> CompanyExposureSnapshot:
    rows = session.exec(
        select(ProjectRisk.project_id, ProjectRisk.exposure, ProjectRisk.score).where(
            ProjectRisk.company_id == company.id
        )
    ).all()
    funded = funded_project_ids(session, company.id)
    coverage = coverage_of(session, company, {pid: exposure for pid, exposure, _ in rows})
    values = {
        "company_id": company.id,
        "taken_on": today,
        "exposure": coverage.total,
        "covered_exposure": coverage.covered,
        "coverage_share": coverage.share,
        "coverage_reason": coverage.reason,
        "unfunded_exposure": sum(e for pid, e, _ in rows if pid not in funded),
        "projects": len(rows),
        "unscored_projects": sum(1 for _, _, s in rows if s is None),
        "computed_at": now,
    }
    upsert(
        session,
        CompanyExposureSnapshot.__table__,
        [values],
        ["company_id", "taken_on"],
        chunk=CHUNK,
    )
    return CompanyExposureSnapshot(**values)


# Funding and pledges ------------------------------------------------------------------------------


def funded_clause(project_id: Any) -> ColumnElement[bool]:
    """SQL: the project has a funding channel, or an active claim by someone with a payout
    channel. (Pledges join this once they exist: see `pledge_amounts`.)"""
    channel = exists().where(FundingChannel.project_id == project_id)
    claim = exists(
        sa_select(ProjectClaim.id)
        .join(PayoutChannel, col(PayoutChannel.user_id) == ProjectClaim.user_id)
        .where(
            ProjectClaim.project_id == project_id,
            ProjectClaim.status == ClaimStatus.active.value,
        )
    )
    return or_(channel, claim)


def funded_project_ids(session: Session, company_id: int) -> set[int]:
    """The company's current projects that are funded (a channel, a paid claim, a pledge)."""
    ids = session.exec(
        select(ProjectRisk.project_id).where(
            ProjectRisk.company_id == company_id, funded_clause(ProjectRisk.project_id)
        )
    ).all()
    return set(ids) | pledged_project_ids(session, company_id)


def pledged_project_ids(session: Session, company_id: int) -> set[int]:
    return {pid for pid, (pledged, _) in pledge_amounts(session, company_id).items() if pledged}


def pledge_amounts(session: Session, company_id: int) -> dict[int, tuple[int | None, int | None]]:
    """{project id: (active pledged amount, proposed amount)} in minor units.

    Only projects with a current pledge (the company's latest pledged month, not
    cancelled) are listed; the proposed amount is what the company's current proposal
    gives the project. Without pledges coverage is 0 with the reason "no pledges
    recorded yet".
    """
    from service.pledges.services import paying_amounts

    pledged = paying_amounts(session, company_id)
    if not pledged:
        return {}
    proposed = proposed_amounts(session, company_id)
    return {pid: (amount, proposed.get(pid)) for pid, amount in pledged.items()}


def coverage_of(session: Session, company: Company, exposures: Mapping[int, float]):
    pledges = pledge_amounts(session, company.id)
    return pledge_coverage(
        {pid: (exposure, *pledges.get(pid, (None, None))) for pid, exposure in exposures.items()}
    )


# Reading ------------------------------------------------------------------------------------


def latest_exposure(session: Session, company_id: int) -> CompanyExposureSnapshot | None:
    return session.exec(
        select(CompanyExposureSnapshot)
        .where(CompanyExposureSnapshot.company_id == company_id)
        .order_by(col(CompanyExposureSnapshot.taken_on).desc())
        .limit(1)
    ).first()


def exposure_history(
    session: Session, company_id: int, limit: int = 366
) -> list[CompanyExposureSnapshot]:
    """The company's exposure by day, oldest first (the last `limit` days computed)."""
    rows = session.exec(
        select(CompanyExposureSnapshot)
        .where(CompanyExposureSnapshot.company_id == company_id)
        .order_by(col(CompanyExposureSnapshot.taken_on).desc())
        .limit(limit)
    ).all()
    return list(reversed(rows))


def current_coverage(session: Session, company: Company) -> PledgeCoverage:
    rows = session.exec(
        select(ProjectRisk.project_id, ProjectRisk.exposure).where(
            ProjectRisk.company_id == company.id
        )
    ).all()
    return coverage_of(session, company, dict(rows))


@dataclass(frozen=True)
class UnfundedRisk:
    project_id: int
    key: str
    score: float | None
    dependence: float
    exposure: float


def top_unfunded(session: Session, company_id: int, limit: int = 10) -> list[UnfundedRisk]:
    """The projects with the highest dependence × risk that have no funding and no pledge."""
    query = (
        select(
            ProjectRisk.project_id,
            Project.key,
            ProjectRisk.score,
            ProjectRisk.dependence,
            ProjectRisk.exposure,
        )
        .join(Project, col(Project.id) == ProjectRisk.project_id)
        .where(ProjectRisk.company_id == company_id, ~funded_clause(ProjectRisk.project_id))
        .order_by(col(ProjectRisk.exposure).desc(), col(Project.key))
        .limit(limit)
    )
    pledged = sorted(pledged_project_ids(session, company_id))
    if pledged:
        query = query.where(col(ProjectRisk.project_id).not_in(pledged))
    return [UnfundedRisk(*row) for row in session.exec(query).all()]


@dataclass(frozen=True)
class ProjectRiskView:
    project: Project
    current: ProjectRisk | None  # None when the project left the inventory
    snapshot: RiskSnapshot
    history: list[RiskSnapshot]


def project_risk(session: Session, company_id: int, project_id: int) -> ProjectRiskView | None:
    """The project's latest score for this company and its history; None when this company
    has never depended on it (so other tenants' projects answer 404)."""
    history = list(
        session.exec(
            select(RiskSnapshot)
            .where(RiskSnapshot.company_id == company_id, RiskSnapshot.project_id == project_id)
            .order_by(col(RiskSnapshot.taken_on))
        ).all()
    )
    if not history:
        return None
    project = session.get(Project, project_id)
    current = session.exec(
        select(ProjectRisk).where(
            ProjectRisk.company_id == company_id, ProjectRisk.project_id == project_id
        )
    ).first()
    return ProjectRiskView(project, current, history[-1], history)


def products_total(session: Session, company_id: int) -> int:
    return (
        session.exec(
            select(func.count(func.distinct(Sbom.product_id))).where(Sbom.company_id == company_id)
        ).one()
        or 0
    )


def company_ids_with_sboms(session: Session) -> list[int]:
    return list(
        session.exec(select(Sbom.company_id).distinct().order_by(col(Sbom.company_id))).all()
    )


__all__ = [
    "NO_PLEDGES",
    "RECOMPUTE_TASK",
    "RecomputeReport",
    "RiskError",
    "company_ids_with_sboms",
    "current_coverage",
    "effective_weights",
    "exposure_history",
    "funded_clause",
    "latest_exposure",
    "pledge_amounts",
    "project_risk",
    "recompute_company",
    "recompute_key",
    "set_weights",
    "top_unfunded",
    "weight_overrides",
]
