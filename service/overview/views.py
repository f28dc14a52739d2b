"""The company home and the audit trail page."""

from __future__ import annotations

from flask import Blueprint, g, render_template, request, session

from service.companies.access import company_view
from service.companies.services import members
from service.db import db_session
from service.overview import activity as sentences
from service.overview import services
from service.overview.figures import trend

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
        members=members(db, g.company),
        trend=trend,
    )


@bp.get("/c/<slug>/activity")
@company_view()
def activity(slug: str):
    kind = request.args.get("kind") or None
    if kind not in (None, *sentences.kinds()):
        kind = None
    actor = (request.args.get("actor") or "").strip()[:100] or None
    found = services.activity(
        db_session(),
        g.company,
        kind=kind,
        actor_login=actor,
        page=request.args.get("page", 1, type=int),
    )
    return render_template(
        "overview/activity.html",
        company=g.company,
        found=found,
        kinds=sentences.kinds(),
        kind=kind,
        actor=actor,
    )
