"""What the engine is given: every candidate project of a company, read from the database.

- **Candidates** (`gather_inputs`): every project behind a package of a product's latest
  SBOM (`company_inventory`), with its shallowest depth per product; *first-party* when
  its owner is one of the company's linked GitHub organisations (case-insensitive, on
  the configured GitHub host); *claimed* when it has an active maintainer claim or a
  known funding channel; *risk* = the score of its latest risk snapshot for the company
  (None → the engine's neutral 50); *months_held* = how many consecutive approved
  proposals before this period, newest first, held it for being unclaimed, and the money
  they held is its *reserve* (``reserves_before``; what becomes of it is
  service.allocation.engine.reserves).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from flask import has_app_context
from sqlalchemy import and_, func
from sqlmodel import Session, col, select

from service.allocation.engine import Candidate, ProductUse
from service.allocation.engine.reserves import Reserve
from service.allocation.models import (
    Adjustment,
    AdjustmentKind,
    LineKind,
    Proposal,
    ProposalLine,
    ProposalState,
)
from service.allocation.periods import check_period
from service.allocation.policy import Policy
from service.allocation.policy_store import company_policy
from service.allocation.queries import (
    INSERT_CHUNK,
)
from service.companies.models import Company, LinkedOrg
from service.core.clock import current_period
from service.core.services import get_settings
from service.numbers import as_fraction
from service.projects.inventory import CompanyInventory, company_inventory
from service.projects.models import ClaimStatus, FundingChannel, Project, ProjectClaim

BREAKDOWN_TOP = 3


@dataclass(frozen=True)
class RiskInfo:
    score: float | None
    breakdown: list[list[Any]]  # [[signal, contribution], ...] largest first


@dataclass
class ProjectInput:
    """Everything the engine and the review page need about one candidate project."""

    project_id: int
    key: str
    owner: str
    products: list[dict[str, Any]]  # [{"name", "depth"}], shallowest first
    risk: float | None = None
    risk_breakdown: list[list[Any]] = field(default_factory=list)
    claimed: bool = False
    first_party: bool = False
    ecosystem: str | None = None
    months_held: int = 0


@dataclass
class Inputs:
    projects: list[ProjectInput]
    stats: dict[str, Any]


def _github_host() -> str:
    if has_app_context():
        from service.projects.sources import github_web_host

        return github_web_host(get_settings())
    return "github.com"


def latest_risks(session: Session, company_id: int) -> dict[int, RiskInfo]:
    """Each project's latest risk snapshot for the company: score and top contributions."""
    from service.risk.models import RiskSnapshot

    latest = (
        select(RiskSnapshot.project_id, func.max(RiskSnapshot.taken_on).label("taken_on"))
        .where(RiskSnapshot.company_id == company_id)
        .group_by(col(RiskSnapshot.project_id))
        .subquery()
    )
    rows = session.exec(
        select(RiskSnapshot.project_id, RiskSnapshot.score, RiskSnapshot.breakdown)
        .join(
            latest,
            and_(
                col(RiskSnapshot.project_id) == latest.c.project_id,
                col(RiskSnapshot.taken_on) == latest.c.taken_on,
            ),
        )
        .where(RiskSnapshot.company_id == company_id)
    ).all()
    risks = {}
    for project_id, score, breakdown in rows:
        parts = [
            [str(item.get("signal")), round(float(item.get("contribution") or 0), 2)]
            for item in breakdown or []
            if isinstance(item, dict) and item.get("contribution")
        ]
        parts.sort(key=lambda part: (-part[1], part[0]))
        risks[project_id] = RiskInfo(score, parts[:BREAKDOWN_TOP])
    return risks


def latest_risk_scores(session: Session, company_id: int) -> dict[int, float | None]:
    """{project id: latest score} (None: scored without data)."""
    return {pid: info.score for pid, info in latest_risks(session, company_id).items()}


def claimed_project_ids(session: Session, project_ids: Sequence[int]) -> set[int]:
    """Projects someone can be paid through: an active claim or a known funding channel."""
    claimed: set[int] = set()
    for start in range(0, len(project_ids), INSERT_CHUNK):
        chunk = list(project_ids[start : start + INSERT_CHUNK])
        claimed.update(
            session.exec(
                select(ProjectClaim.project_id).where(
                    col(ProjectClaim.project_id).in_(chunk),
                    ProjectClaim.status == ClaimStatus.active.value,
                )
            ).all()
        )
        claimed.update(
            pid
            for pid in session.exec(
                select(FundingChannel.project_id)
                .where(col(FundingChannel.project_id).in_(chunk))
                .distinct()
            ).all()
            if pid is not None
        )
    return claimed


def reserves_before(
    session: Session, company_id: int, period: str, currency: str
) -> dict[int, Reserve]:
    """{project id: its reserve}: the held amounts of the approved proposals before
    `period`, newest first, for as long as each one held the project in a row (a proposal
    in another currency ends every run: its money is not this one's)."""
    approved = session.exec(
        select(Proposal.id, Proposal.period, Proposal.currency)
        .where(
            Proposal.company_id == company_id,
            Proposal.state == ProposalState.approved.value,
            col(Proposal.period) < period,
        )
        .order_by(col(Proposal.period).desc())
    )
    reserves: dict[int, Reserve] = {}
    running: set[int] | None = None  # projects whose run goes on; None before the first
    for proposal_id, proposal_period, proposal_currency in approved:
        if proposal_currency != currency or running == set():
            break
        query = select(ProposalLine.project_id, ProposalLine.project_key, ProposalLine.amount_minor)
        query = query.where(
            ProposalLine.proposal_id == proposal_id, ProposalLine.kind == LineKind.held.value
        )
        if running is not None:
            query = query.where(col(ProposalLine.project_id).in_(running))
        held = session.exec(query).all()
        for project_id, key, amount in held:
            before = reserves.get(project_id)
            reserves[project_id] = Reserve(
                project_id,
                key,
                amount + (before.amount if before else 0),
                1 + (before.months if before else 0),
                proposal_period,
            )
        running = {project_id for project_id, _key, _amount in held}
    return reserves


def _ecosystem(ecosystems: set[str], policy: Policy) -> str | None:
    """One ecosystem for the engine: excluded only when every package of it is."""
    if not ecosystems:
        return None
    ordered = sorted(ecosystems)
    allowed = [eco for eco in ordered if eco.casefold() not in policy.exclude_ecosystems]
    return allowed[0] if allowed else ordered[0]


def gather_inputs(
    session: Session,
    company: Company,
    policy: Policy,
    period: str,
    inventory: CompanyInventory | None = None,
) -> Inputs:
    """Read every candidate project of the company from the database."""
    inventory = inventory or company_inventory(session, company.id)
    ids = sorted(inventory.projects)
    owners: dict[int, tuple[str, str]] = {}
    for start in range(0, len(ids), INSERT_CHUNK):
        chunk = ids[start : start + INSERT_CHUNK]
        owners.update(
            (pid, (host, owner))
            for pid, host, owner in session.exec(
                select(Project.id, Project.host, Project.owner).where(col(Project.id).in_(chunk))
            ).all()
        )
    orgs = {
        login.casefold()
        for login in session.exec(
            select(LinkedOrg.org_login).where(LinkedOrg.company_id == company.id)
        ).all()
    }
    github_host = _github_host()
    claimed = claimed_project_ids(session, ids)
    risks = latest_risks(session, company.id)
    reserves = reserves_before(session, company.id, period, company.currency)
    projects = []
    for pid in ids:
        use = inventory.projects[pid]
        host, owner = owners.get(pid, ("", ""))
        products = sorted(
            use.depths.items(), key=lambda item: (item[1] is None, item[1] or 0, item[0])
        )
        risk = risks.get(pid)
        projects.append(
            ProjectInput(
                project_id=pid,
                key=use.key,
                owner=owner,
                products=[{"name": name, "depth": depth} for name, depth in products],
                risk=risk.score if risk else None,
                risk_breakdown=risk.breakdown if risk else [],
                claimed=pid in claimed,
                first_party=host == github_host and owner.casefold() in orgs,
                ecosystem=_ecosystem(use.ecosystems, policy),
                months_held=reserves[pid].months if pid in reserves else 0,
            )
        )
    stats = {
        "reserves": [reserves[pid].to_dict() for pid in sorted(reserves)],
        "products": len(inventory.products),
        "packages": inventory.packages_total,
        "unresolved_packages": inventory.packages_unresolved,
        "projects": len(ids),
    }
    return Inputs(projects, stats)


def adjusted(adjustments: Iterable[Adjustment]) -> dict[str, Any]:
    """The candidate fields the OSPO's active adjustments set."""
    values: dict[str, Any] = {}
    for adjustment in adjustments:
        kind = adjustment.kind
        if kind == AdjustmentKind.boost:
            values["boost"] = as_fraction(adjustment.value, "boost")
        elif kind == AdjustmentKind.exclude:
            values["excluded"] = True
        elif kind == AdjustmentKind.override:
            values["override"] = int(adjustment.value)
            values["override_note"] = adjustment.note
        elif kind == AdjustmentKind.pin_minimum:
            values["pin_minimum"] = int(adjustment.value)
    return values


def to_candidate(item: ProjectInput, adjustments: Iterable[Adjustment] = ()) -> Candidate:
    values = adjusted(adjustments)
    risk = item.risk
    return Candidate(
        key=item.key,
        uses=tuple(ProductUse(p["name"], p["depth"]) for p in item.products),
        risk=None if risk is None else min(100.0, max(0.0, float(risk))),
        claimed=item.claimed,
        first_party=item.first_party,
        owner=item.owner or None,
        ecosystem=item.ecosystem,
        months_held=item.months_held,
        **values,
    )


def build_candidates(
    session: Session, company: Company, period: str | None = None
) -> list[Candidate]:
    """The engine's candidates for the company now (no adjustments)."""
    period = check_period(period or current_period())
    policy = company_policy(session, company)
    return [to_candidate(item) for item in gather_inputs(session, company, policy, period).projects]
