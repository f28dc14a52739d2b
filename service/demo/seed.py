"""The demo company: seeded people, a budget, and products whose SBOMs are real.

`load_demo` is what `tributary demo load` runs: it is idempotent, and it resolves, scores
and proposes from the shipped metadata snapshot, so the demo works with no network. The
three months before this one are approved by the demo reviewer, the first two paid and
the last one partly, and this month's proposal waits for review.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func
from sqlmodel import Session, col, select

from service.accounts.demo_people import demo_profiles
from service.accounts.models import User
from service.accounts.services import sign_in
from service.audit.services import Actor
from service.companies.models import Company, LinkedOrg, Role
from service.companies.services import accept_invitations, create_company, invite
from service.core.clock import current_period, utcnow
from service.db import Database
from service.demo import DEMO_DATA, DEMO_SNAPSHOT
from service.demo.github import DEMO_ORG
from service.demo.own_sbom import own_dependencies_sbom
from service.money import format_amount
from service.pledges.lifecycle import PLATFORMS
from service.pledges.services import save_settings

DEMO_SLUG = "acme-demo"
DEMO_ACTOR = Actor.system("demo")


def demo_products() -> list[tuple[str, str, bytes]]:
    """(product, file name, SBOM bytes): Tributary itself, a web shop, a data pipeline."""
    return [
        ("tributary", "tributary.cdx.json", own_dependencies_sbom()),
        (
            "storefront-web",
            "storefront-web.cdx.json",
            (DEMO_DATA / "storefront-web.cdx.json").read_bytes(),
        ),
        (
            "data-pipeline",
            "data-pipeline.spdx.json",
            (DEMO_DATA / "data-pipeline.spdx.json").read_bytes(),
        ),
    ]


def seed_demo(session: Session) -> Company:
    """Create the demo company and its people; running it twice changes nothing."""
    existing = session.exec(select(Company).where(Company.slug == DEMO_SLUG)).first()
    if existing:
        return existing
    users = {
        login: sign_in(session, profile, demo=True) for login, profile in demo_profiles().items()
    }
    company = create_company(
        session,
        DEMO_ACTOR,
        slug=DEMO_SLUG,
        name="Acme Demo",
        currency="USD",
        budget_minor=500_000,
        owner=users["demo-owner"],
    )
    invite(session, DEMO_ACTOR, company, "demo-reviewer", Role.reviewer)
    session.add(
        LinkedOrg(company_id=company.id, org_login=DEMO_ORG, linked_by_id=users["demo-owner"].id)
    )
    # The demo publishes its pledges, so the public transparency pages have one to show.
    save_settings(session, DEMO_ACTOR, company.id, due_day=15, anonymous=False, public=True)
    # Demo users are seeded as signed in once, so the pending invitation becomes membership.
    accept_invitations(session, users["demo-reviewer"])
    session.flush()
    return company


def load_demo(database: Database) -> Company:
    """Seed, upload the products' SBOMs, resolve offline, score, and propose this month."""
    from service.allocation.generation import generate_proposal
    from service.projects import services as resolution
    from service.risk.services import recompute_company
    from service.sboms.services import ingest

    with database.transaction() as session:
        company = seed_demo(session)
        for product, filename, data in demo_products():
            ingest(session, DEMO_ACTOR, company, product, data, source="cli", filename=filename)
    with database.transaction() as session:
        package_ids = resolution.due_package_ids(
            session, utcnow(), sbom_ids=resolution.active_sbom_ids(session, company.id)
        )
    if package_ids:
        resolution.run_resolution(
            database, package_ids, offline=True, snapshot=DEMO_SNAPSHOT, retry_now=True
        )
    with database.transaction() as session:
        company = session.get(Company, company.id)
        recompute_company(session, company, actor=DEMO_ACTOR)
        past_months(session, company)
        generate_proposal(session, DEMO_ACTOR, company, submit=True)
    return company


PAST_MONTHS = 3  # approved before this month: the oldest two paid, the last one partly


def past_months(session: Session, company: Company) -> None:
    """Approve the three months before this one (the demo reviewer) and record what was
    paid for them, so pledges, payments, exports and reports have a history to show."""
    from service.allocation.generation import generate_proposal
    from service.allocation.models import Proposal, ProposalState
    from service.allocation.periods import previous_period
    from service.allocation.review import approve
    from service.pledges.services import pledges_of, record_payment

    if session.exec(
        select(Proposal).where(
            Proposal.company_id == company.id, Proposal.state == ProposalState.approved.value
        )
    ).first():
        return
    reviewer = session.exec(select(User).where(User.login == "demo-reviewer")).one()
    today = utcnow().date()
    periods = [current_period()]
    for _ in range(PAST_MONTHS):
        periods.insert(0, previous_period(periods[0]))
    for index, period in enumerate(periods[:-1]):
        proposal = generate_proposal(session, DEMO_ACTOR, company, period)
        approve(session, Actor(user_id=reviewer.id), proposal, "Demo: an earlier month.")
        paid_on = min(date.fromisoformat(f"{periods[index + 1]}-10"), today)
        for number, pledge in enumerate(pledges_of(session, company.id, period)):
            last = index == len(periods) - 2
            if last and number % 2:
                continue  # the last month is partly paid: every other pledge still owed
            amount = pledge.amount_minor // 2 if last and number == 0 else pledge.amount_minor
            record_payment(
                session,
                Actor(user_id=reviewer.id),
                pledge,
                amount=format_amount(amount, pledge.currency),
                currency=pledge.currency,
                paid_on=paid_on,
                platform=_platform(pledge.channels),
                reference=f"demo {period}",
            )


@dataclass(frozen=True)
class DemoFigures:
    """How much of the demo's risk rests on data, and how much of its budget can be paid."""

    risk_coverage: float  # mean over the company's projects of the share of weight with data
    payable_share: float  # share of the budget on lines paid to a claim or a known channel


def demo_figures(session: Session, company: Company) -> DemoFigures:
    from service.allocation.models import LineKind, Proposal, ProposalLine
    from service.risk.models import ProjectRisk

    coverage = session.exec(
        select(func.avg(ProjectRisk.coverage)).where(ProjectRisk.company_id == company.id)
    ).one()
    proposal = session.exec(
        select(Proposal)
        .where(Proposal.company_id == company.id)
        .order_by(col(Proposal.period).desc(), col(Proposal.revision).desc())
    ).first()
    paid = 0
    if proposal is not None:
        paid = session.exec(
            select(func.coalesce(func.sum(ProposalLine.amount_minor), 0)).where(
                ProposalLine.proposal_id == proposal.id,
                ProposalLine.kind == LineKind.line.value,
                col(ProposalLine.claimed),
            )
        ).one()
    budget = proposal.budget_minor if proposal is not None else 0
    return DemoFigures(float(coverage or 0.0), paid / budget if budget else 0.0)


def demo_users(session: Session) -> list[User]:
    return list(session.exec(select(User).where(User.is_demo)))


def _platform(channels: dict) -> str:
    from service.pledges.services import platforms_of

    found = platforms_of(channels)
    return found[0] if found and found[0] in PLATFORMS else "bank"
