"""What the company home shows: its figures with their trends, what needs attention, and
the audit trail as activity. It only reads, through the other domains' own queries, so a
figure shown here and on its domain's page comes from the same function (coverage is
risk's `current_coverage`, as on the risk page)."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import bindparam, case, func
from sqlmodel import Session, col, select

from service.accounts.models import User
from service.allocation.models import Proposal, ProposalState
from service.allocation.queries import current_or_latest, previous_approved
from service.audit.models import Event
from service.companies.models import Company, Membership
from service.core.clock import current_period, utcnow
from service.overview.activity import sentence
from service.pledges.models import Payment, Pledge, PledgeState
from service.projects.models import ClaimStatus, ProjectClaim
from service.projects.services import Progress, inventory_progress
from service.risk.exposure import PledgeCoverage
from service.risk.models import CompanyExposureSnapshot, ProjectRisk
from service.risk.services import current_coverage, exposure_history
from service.sboms.services import ProductRow, products_of


@dataclass(frozen=True)
class Attention:
    """One thing someone should look at, and where."""

    text: str
    endpoint: str
    args: dict[str, Any] = field(default_factory=dict)
    tone: str = "warn"


@dataclass(frozen=True)
class Figures:
    """The home's counts and sums that need no rows, read together in one query."""

    paid_this_year_minor: int
    paid_last_year_minor: int
    overdue_pledges: int
    lapsed_projects: int  # projects the company depends on whose claim lapsed
    members: int


@dataclass(frozen=True)
class Overview:
    company: Company
    period: str
    proposal: Proposal | None  # this period's, else the latest
    previous: Proposal | None  # the approved one before it (trend of "to pay")
    figures: Figures
    exposure: CompanyExposureSnapshot | None
    exposure_before: CompanyExposureSnapshot | None  # about a month earlier
    coverage: PledgeCoverage
    products: list[ProductRow]
    progress: Progress
    attention: list[Attention]

    @property
    def budget_minor(self) -> int:
        """This month's budget: the proposal's (with any carried remainder), else the set one."""
        if self.proposal is not None and self.proposal.period == self.period:
            return self.proposal.budget_minor
        return self.company.monthly_budget_minor


def overview(session: Session, company: Company) -> Overview:
    now = utcnow()
    period = current_period(now)
    proposal = current_or_latest(session, company.id, period)
    history = exposure_history(session, company.id, limit=62)
    products = products_of(session, company)
    found = figures(session, company, now.year)
    progress = inventory_progress(session, _latest_ids(products))
    return Overview(
        company=company,
        period=period,
        proposal=proposal,
        previous=previous_approved(session, company.id, proposal.period) if proposal else None,
        figures=found,
        exposure=history[-1] if history else None,
        exposure_before=_month_before(history),
        coverage=current_coverage(session, company),
        products=products,
        progress=progress,
        attention=_attention(company, proposal, progress, found),
    )


def _month_before(history: list[CompanyExposureSnapshot]) -> CompanyExposureSnapshot | None:
    """The snapshot nearest to 30 days before the latest one, if there is an older one."""
    if len(history) < 2:
        return None
    target = history[-1].taken_on - timedelta(days=30)
    older = [row for row in history[:-1] if row.taken_on <= target]
    return older[-1] if older else history[0]


def _latest_ids(products: list[ProductRow]) -> list[int]:
    return [row.latest.id for row in products if row.latest is not None]


def figures(session: Session, company: Company, year: int) -> Figures:
    """Paid in the company's currency in `year` and the year before, overdue pledges, lapsed
    claims and members: one query of five counts instead of five round trips."""
    row = session.exec(
        _figures_statement(),
        params={
            "company_id": company.id,
            "currency": company.currency,
            "year_start": date(year, 1, 1),
            "last_year_start": date(year - 1, 1, 1),
            "next_year_start": date(year + 1, 1, 1),
        },
    ).one()
    return Figures(*(int(value) for value in row))


@functools.cache
def _figures_statement() -> Any:
    """Built once per process (building it cost more than running it); its values are
    bound per request."""
    company_id = bindparam("company_id")
    in_year = col(Payment.paid_on) >= bindparam("year_start")
    paid = (
        select(
            func.coalesce(func.sum(case((in_year, Payment.amount_minor), else_=0)), 0).label(
                "this_year"
            ),
            func.coalesce(func.sum(case((in_year, 0), else_=Payment.amount_minor)), 0).label(
                "last_year"
            ),
        )
        .where(
            Payment.company_id == company_id,
            Payment.currency == bindparam("currency"),
            col(Payment.paid_on) >= bindparam("last_year_start"),
            col(Payment.paid_on) < bindparam("next_year_start"),
        )
        .subquery("paid")  # one row: an aggregate without GROUP BY
    )
    overdue = select(func.count(col(Pledge.id))).where(
        Pledge.company_id == company_id, Pledge.state == PledgeState.overdue.value
    )
    lapsed = select(func.count(func.distinct(ProjectClaim.project_id))).where(
        ProjectClaim.status == ClaimStatus.lapsed.value,
        col(ProjectClaim.project_id).in_(
            select(ProjectRisk.project_id).where(ProjectRisk.company_id == company_id)
        ),
    )
    members = select(func.count(col(Membership.id))).where(Membership.company_id == company_id)
    return select(
        paid.c.this_year,
        paid.c.last_year,
        overdue.scalar_subquery(),
        lapsed.scalar_subquery(),
        members.scalar_subquery(),
    ).select_from(paid)


def _attention(
    company: Company, proposal: Proposal | None, progress: Progress, found: Figures
) -> list[Attention]:
    slug = {"slug": company.slug}
    items: list[Attention] = []
    if proposal is not None and proposal.state in (
        ProposalState.in_review.value,
        ProposalState.draft.value,
    ):
        state = "waits for review" if proposal.state == "in_review" else "is a draft"
        items.append(
            Attention(
                f"The {proposal.period} proposal {state}.",
                "allocation.review",
                {**slug, "period": proposal.period},
                "info",
            )
        )
    if found.overdue_pledges:
        items.append(
            Attention(
                f"{found.overdue_pledges} pledges are overdue.",
                "pledges.index",
                {**slug, "state": "overdue"},
                "bad",
            )
        )
    if progress.errors:
        items.append(
            Attention(
                f"{progress.errors} packages could not be looked up and will be retried.",
                "projects.company_projects",
                slug,
            )
        )
    if found.lapsed_projects:
        items.append(
            Attention(
                f"{found.lapsed_projects} projects you depend on lost their maintainer's claim.",
                "projects.company_projects",
                slug,
            )
        )
    return items


# Activity ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Activity:
    event: Event
    actor: str
    text: str


@dataclass(frozen=True)
class ActivityPage:
    items: list[Activity]
    page: int
    pages: int
    total: int


def activity(
    session: Session,
    company: Company,
    *,
    kind: str | None = None,
    actor_login: str | None = None,
    page: int = 1,
    per_page: int = 50,
) -> ActivityPage:
    """The company's audit trail, newest first, as sentences; `kind` is an action family
    ("proposal", "sbom", …), `actor_login` a member's GitHub login."""
    where = [Event.company_id == company.id]
    if kind:
        where.append(col(Event.action).startswith(f"{kind}."))
    if actor_login:
        where.append(
            col(Event.actor_user_id).in_(
                select(User.id).where(func.lower(User.login) == actor_login.lower())
            )
        )
    total = session.exec(select(func.count(col(Event.id))).where(*where)).one()
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    events = session.exec(
        select(Event)
        .where(*where)
        .order_by(col(Event.id).desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    return ActivityPage(_described(session, company, events), page, pages, total)


def recent_activity(session: Session, company: Company, limit: int = 8) -> list[Activity]:
    """The newest entries for the home page (no count: it links to the whole trail)."""
    events = session.exec(
        select(Event)
        .where(Event.company_id == company.id)
        .order_by(col(Event.id).desc())
        .limit(limit)
    ).all()
    return _described(session, company, list(events))


def _described(session: Session, company: Company, events: list[Event]) -> list[Activity]:
    ids = {e.actor_user_id for e in events if e.actor_user_id is not None}
    logins = (
        dict(session.exec(select(User.id, User.login).where(col(User.id).in_(ids))).all())
        if ids
        else {}
    )
    return [
        Activity(
            event=e,
            actor=logins.get(e.actor_user_id) or e.actor_label or "an API token",
            text=sentence(e.action, e.details or {}, company.currency),
        )
        for e in events
    ]
