"""`tributary demo load`: real SBOMs in, resolved offline, scored, proposed; twice is once."""

from sqlalchemy import func
from sqlmodel import select

from service.allocation.models import Proposal
from service.demo.seed import demo_figures, load_demo
from service.pledges import services
from service.projects.models import FundingChannel, PackageResolution, Project
from service.risk.models import ProjectRisk, RiskSnapshot
from service.sboms.models import Product, Sbom


def test_demo_load_is_complete_and_idempotent(app, session):
    database = app.extensions["tributary.db"]
    with app.app_context():
        company = load_demo(database)
        load_demo(database)

    products = session.exec(select(Product.name).where(Product.company_id == company.id)).all()
    assert sorted(products) == ["data-pipeline", "storefront-web", "tributary"]
    assert session.exec(select(func.count()).select_from(Sbom)).one() == 3

    statuses = dict(
        session.exec(
            select(PackageResolution.status, func.count()).group_by(PackageResolution.status)
        ).all()
    )
    assert statuses.get("resolved", 0) >= 0.9 * sum(statuses.values())  # offline, no network

    assert session.exec(select(func.count()).select_from(ProjectRisk)).one() > 50
    proposals = session.exec(
        select(Proposal).where(Proposal.company_id == company.id).order_by(Proposal.period)
    ).all()
    # Three earlier months approved, this month's waiting for review.
    assert [(p.revision, p.state) for p in proposals] == [(1, "approved")] * 3 + [(1, "in_review")]
    assert proposals[-1].budget_minor == 500_000
    assert proposals[-1].four_eyes is True  # the demo starts with four eyes on
    periods = [p.period for p in proposals]
    pledges = services.pledges_of(session, company.id)
    states = {
        period: sorted({p.state for p in pledges if p.period == period}) for period in periods
    }
    assert states[periods[0]] == ["paid"] and states[periods[1]] == ["paid"]
    assert states[periods[2]] == ["paid", "partially_paid", "pledged"]
    assert periods[3] not in states or states[periods[3]] == []


def test_demo_risk_rests_on_the_repositories_real_activity(app, session):
    database = app.extensions["tributary.db"]
    with app.app_context():
        company = load_demo(database)
    ee_first = session.exec(
        select(Project).where(Project.key == "github.com/jonathanong/ee-first")
    ).one()
    snapshot = session.exec(
        select(RiskSnapshot).where(RiskSnapshot.project_id == ee_first.id)
    ).one()
    lines = {line["signal"]: line for line in snapshot.breakdown}
    # No commit since 2018 in its git history: nobody active, and the criticality inputs.
    assert (lines["active_contributors"]["raw"], lines["active_contributors"]["source"]) == (
        0,
        "GitHub",
    )
    assert lines["criticality"]["raw"]["contributor_count"] == 2
    # FUNDING.yml channels become the projects' funding channels.
    sponsors = session.exec(
        select(FundingChannel.handle)
        .join(Project, Project.id == FundingChannel.project_id)
        .where(
            Project.key == "github.com/ljharb/async-function",
            FundingChannel.source == "FUNDING.yml",
        )
    ).all()
    assert "ljharb" in sponsors
    figures = demo_figures(session, company)
    assert figures.risk_coverage > 0.555  # 0.47 before the registry's PyPI answers, 0.55 before
    # PyPI's answers said whether a project is deprecated
    assert 0 < figures.payable_share < 1
