"""Public transparency, opt-in per company: what a company pledged and paid, by month and
by project, and per project what it received through Tributary from the companies that
publish. Nothing of a company that has not opted in is ever read here; cancelled pledges
are left out; payments count as paid, pledges as pledged."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, col, select

from service.companies.models import Company
from service.pledges.models import Pledge, PledgeSettings, PledgeState
from service.projects.models import Project

ANONYMOUS = "anonymous company"


@dataclass(frozen=True)
class Amounts:
    label: str  # a month, a project key or a company name
    currency: str
    pledged: int
    paid: int


@dataclass(frozen=True)
class CompanyReport:
    company: Company
    months: list[Amounts]  # newest first
    projects: list[Amounts]  # largest pledged first

    def totals(self) -> list[Amounts]:
        """Pledged and paid in all, per currency."""
        per: dict[str, list[int]] = {}
        for month in self.months:
            entry = per.setdefault(month.currency, [0, 0])
            entry[0] += month.pledged
            entry[1] += month.paid
        return [Amounts("total", c, p, paid) for c, (p, paid) in sorted(per.items())]


def _published():
    return (
        select(Company)
        .join(PledgeSettings, col(PledgeSettings.company_id) == Company.id)
        .where(col(PledgeSettings.public).is_(True))
    )


def public_companies(session: Session) -> list[Company]:
    return list(session.exec(_published().order_by(col(Company.name))).all())


def public_company(session: Session, slug: str) -> Company | None:
    """The company if it publishes (None otherwise: its page does not exist)."""
    return session.exec(_published().where(Company.slug == slug)).first()


def _counted(query):
    return query.where(Pledge.state != PledgeState.cancelled.value)


def company_report(session: Session, company: Company) -> CompanyReport:
    totals = (func.sum(Pledge.amount_minor), func.sum(Pledge.paid_minor))
    months = session.exec(
        _counted(
            select(Pledge.period, Pledge.currency, *totals)
            .where(Pledge.company_id == company.id)
            .group_by(col(Pledge.period), col(Pledge.currency))
            .order_by(col(Pledge.period).desc(), col(Pledge.currency))
        )
    ).all()
    projects = session.exec(
        _counted(
            select(Project.key, Pledge.currency, *totals)
            .join(Project, col(Project.id) == Pledge.project_id)
            .where(Pledge.company_id == company.id)
            .group_by(col(Project.key), col(Pledge.currency))
        )
    ).all()
    return CompanyReport(
        company,
        [Amounts(period, cur, int(p), int(paid)) for period, cur, p, paid in months],
        sorted(
            (Amounts(key, cur, int(p), int(paid)) for key, cur, p, paid in projects),
            key=lambda a: (-a.pledged, a.label),
        ),
    )


def project_received(session: Session, project: Project) -> list[Amounts]:
    """Per publishing company (named, or "anonymous company" when it chose so), what it
    pledged to the project and paid."""
    rows = session.exec(
        _counted(
            select(
                Company.name,
                PledgeSettings.anonymous,
                Pledge.currency,
                func.sum(Pledge.amount_minor),
                func.sum(Pledge.paid_minor),
            )
            .join(Company, col(Company.id) == Pledge.company_id)
            .join(PledgeSettings, col(PledgeSettings.company_id) == Pledge.company_id)
            .where(Pledge.project_id == project.id, col(PledgeSettings.public).is_(True))
            .group_by(col(Company.name), col(PledgeSettings.anonymous), col(Pledge.currency))
        )
    ).all()
    return sorted(
        (
            Amounts(ANONYMOUS if anonymous else name, cur, int(p), int(paid))
            for name, anonymous, cur, p, paid in rows
        ),
        key=lambda a: (-a.paid, -a.pledged, a.label),
    )
