"""`tributary demo load`: real SBOMs in, resolved offline, scored, proposed; twice is once."""

from sqlalchemy import func
from sqlmodel import select

from service.allocation.models import Proposal
from service.demo.seed import load_demo
from service.projects.models import PackageResolution
from service.risk.models import ProjectRisk
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
    proposals = session.exec(select(Proposal).where(Proposal.company_id == company.id)).all()
    assert [(p.revision, p.state) for p in proposals] == [(1, "in_review")]
    assert proposals[0].budget_minor == 500_000
