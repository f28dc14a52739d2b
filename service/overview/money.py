"""The company dashboard's figures: money by month (budget, pledged, paid; maintainers and
registry stewards apart), pledge coverage of exposure over time, the largest unfunded
risks and the pledges falling due. Read-only, from the domains' own tables and queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import case, func
from sqlmodel import Session, col, select

from service.allocation.models import Proposal, ProposalState
from service.allocation.periods import previous_period
from service.companies.models import Company
from service.core.clock import current_period, utcnow
from service.pledges.models import Pledge, PledgeState
from service.projects.models import INFRASTRUCTURE_HOST, Project
from service.risk.models import CompanyExposureSnapshot
from service.risk.services import UnfundedRisk, exposure_history, top_unfunded

MONTHS = 12
DUE_WITHIN = timedelta(days=31)
OPEN_PLEDGE_STATES = (
    PledgeState.pledged.value,
    PledgeState.partially_paid.value,
    PledgeState.overdue.value,
)


@dataclass(frozen=True)
class MonthMoney:
    period: str
    budget: int  # the approved proposal's budget (0 without one)
    pledged: int  # pledges for the month, cancelled ones aside
    paid: int  # payments recorded against them
    to_registries: int  # of `pledged`, the registry stewards' part

    @property
    def to_maintainers(self) -> int:
        return self.pledged - self.to_registries

    @property
    def unpaid(self) -> int:
        return max(0, self.pledged - self.paid)


@dataclass(frozen=True)
class DuePledge:
    pledge: Pledge
    project_key: str

    @property
    def overdue(self) -> bool:
        return self.pledge.state == PledgeState.overdue.value


@dataclass(frozen=True)
class Dashboard:
    months: list[MonthMoney]  # oldest first, from the first month with money
    coverage: list[CompanyExposureSnapshot]  # oldest first
    unfunded: list[UnfundedRisk]
    due: list[DuePledge]  # overdue first, then by due date

    @property
    def overdue(self) -> int:
        return sum(1 for d in self.due if d.overdue)


def last_periods(until: str, count: int = MONTHS) -> list[str]:
    periods = [until]
    while len(periods) < count:
        periods.append(previous_period(periods[-1]))
    return periods[::-1]


def money_by_month(session: Session, company: Company, periods: list[str]) -> list[MonthMoney]:
    """Budget, pledged and paid per month in the company's currency; months before the
    first one with any money are left out (a new company's chart starts with its first)."""
    budgets = dict(
        session.exec(
            select(Proposal.period, Proposal.budget_minor).where(
                Proposal.company_id == company.id,
                Proposal.state == ProposalState.approved.value,
                Proposal.currency == company.currency,
                col(Proposal.period).in_(periods),
            )
        ).all()
    )
    registry = case((Project.host == INFRASTRUCTURE_HOST, Pledge.amount_minor), else_=0)
    pledged = {
        period: (int(amount), int(paid), int(stewards))
        for period, amount, paid, stewards in session.exec(
            select(
                Pledge.period,
                func.sum(Pledge.amount_minor),
                func.sum(Pledge.paid_minor),
                func.sum(registry),
            )
            .join(Project, col(Project.id) == Pledge.project_id)
            .where(
                Pledge.company_id == company.id,
                Pledge.currency == company.currency,
                Pledge.state != PledgeState.cancelled.value,
                col(Pledge.period).in_(periods),
            )
            .group_by(col(Pledge.period))
        ).all()
    }
    rows = [
        MonthMoney(period, budgets.get(period, 0), *pledged.get(period, (0, 0, 0)))
        for period in periods
    ]
    first = next((i for i, row in enumerate(rows) if row.budget or row.pledged), len(rows))
    return rows[first:]


def pledges_due(session: Session, company_id: int, today: date) -> list[DuePledge]:
    """Open pledges that are overdue or fall due within a month."""
    rows = session.exec(
        select(Pledge, Project.key)
        .join(Project, col(Project.id) == Pledge.project_id)
        .where(
            Pledge.company_id == company_id,
            col(Pledge.state).in_(OPEN_PLEDGE_STATES),
            col(Pledge.due_on) <= today + DUE_WITHIN,
        )
        .order_by(col(Pledge.due_on), col(Project.key))
    ).all()
    due = [DuePledge(pledge, key) for pledge, key in rows]
    return sorted(due, key=lambda d: not d.overdue)  # stable: by due date within each


def dashboard(session: Session, company: Company) -> Dashboard:
    now = utcnow()
    return Dashboard(
        months=money_by_month(session, company, last_periods(current_period(now))),
        coverage=exposure_history(session, company.id, limit=366),
        unfunded=top_unfunded(session, company.id),
        due=pledges_due(session, company.id, now.date()),
    )
