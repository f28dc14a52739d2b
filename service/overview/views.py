"""The company home and the audit trail page."""

from __future__ import annotations

from flask import Blueprint, g, render_template, request, session

from service.companies.access import company_view
from service.core.charts import history_chart, months_chart
from service.db import db_session
from service.money import exponent
from service.overview import activity as sentences
from service.overview import money, services
from service.overview.figures import trend
from service.overview.forms import ActivityForm
from service.risk.services import current_coverage

bp = Blueprint("overview", __name__)


@bp.get("/c/<slug>/")
@company_view()
def home(slug: str):
    session["company"] = slug  # "/" brings this person back here
    db = db_session()
    return render_template(
        "overview/home.html",
        company=g.company,
        view=services.overview(db, g.company),
        activity=services.recent_activity(db, g.company),
        trend=trend,
    )


@bp.get("/c/<slug>/dashboard")
@company_view()
def dashboard(slug: str):
    """Money by month, coverage over time, unfunded risks, pledges due: charts and numbers."""
    db = db_session()
    found = money.dashboard(db, g.company)
    coverage = current_coverage(db, g.company)  # the latest day, as on the home and risk pages
    points = [(row.taken_on, row.coverage_share * 100) for row in found.coverage]
    if points:
        points[-1] = (points[-1][0], coverage.share * 100)
    scale = 10 ** exponent(g.company.currency)

    def units(minor: int) -> float:
        return minor / scale

    return render_template(
        "overview/dashboard.html",
        company=g.company,
        found=found,
        coverage=coverage,
        money_chart=months_chart(
            [m.period for m in found.months],
            {
                "Budget": [units(m.budget) for m in found.months],
                "Pledged": [units(m.pledged) for m in found.months],
                "Paid": [units(m.paid) for m in found.months],
            },
            title="Budget, pledged and paid by month",
            y_title=g.company.currency,
        ),
        coverage_chart=history_chart(
            points, title="Pledge coverage of exposure", y_title="Coverage (%)", range_=(0, 100)
        ),
    )


@bp.get("/c/<slug>/activity")
@company_view()
def activity(slug: str):
    args = ActivityForm(request.args)
    kind, actor = args.kind.data, args.actor.data
    found = services.activity(
        db_session(), g.company, kind=kind, actor_login=actor, page=args.page.data
    )
    return render_template(
        "overview/activity.html",
        company=g.company,
        found=found,
        kinds=sentences.kinds(),
        kind=kind,
        actor=actor,
    )
