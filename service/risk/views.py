"""Risk pages: the dependency table, the company's exposure, a project's breakdown, and
the company's risk weights.

Every page goes through `company_view` (404 for other tenants). Every filter, sort and
page is a plain link or a GET form; "Recompute now" and the weights form are POST forms
with CSRF tokens. Nothing needs JavaScript. Package, project and source names are shown
escaped (Jinja autoescaping); charts carry only numbers and dates.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from service.accounts.auth import current_user
from service.audit.services import Actor
from service.companies.access import company_view
from service.companies.forms import ConfirmForm
from service.companies.models import Role
from service.core.charts import history_chart
from service.core.clock import utcnow
from service.db import db_session, savepoint
from service.risk import services
from service.risk.cells import table_rows
from service.risk.explain import explain
from service.risk.exposure import DECAY, NEUTRAL_RISK, UNKNOWN_DEPTH
from service.risk.forms import WeightsForm
from service.risk.gather import SOURCE_LABELS
from service.risk.jobs import queue_recompute
from service.risk.signals import CATALOGUE, DEFAULT_WEIGHTS, SIGNAL_NAMES
from service.risk.table import DEPTHS, SORTS, dependency_table, parse_query

bp = Blueprint("risk", __name__)


def _actor() -> Actor:
    return Actor(user_id=current_user().id)


@bp.get("/c/<slug>/dependencies")
@company_view()
def dependencies(slug: str):
    query, errors = parse_query(request.args)
    table = dependency_table(db_session(), g.company.id, query)
    # One url_for for the page: a project's id is the last segment of its risk page.
    project_url = url_for("risk.project", slug=slug, project_id=0).removesuffix("0")
    return render_template(
        "risk/dependencies.html",
        company=g.company,
        table=table,
        rows=table_rows(table.rows, project_url),
        query=table.query,
        errors=errors,
        sorts=SORTS,
        depths=DEPTHS,
    )


@bp.get("/c/<slug>/risk")
@company_view()
def exposure(slug: str):
    session = db_session()
    history = services.exposure_history(session, g.company.id)
    latest = history[-1] if history else None
    chart = history_chart(
        [(row.taken_on, row.exposure) for row in history],
        title="Exposure over time",
        y_title="Exposure",
    )
    return render_template(
        "risk/exposure.html",
        company=g.company,
        latest=latest,
        history=history,
        chart=chart,
        coverage=services.current_coverage(session, g.company),
        unfunded=services.top_unfunded(session, g.company.id),
        can_recompute=g.membership.role.at_least(Role.reviewer),
        confirm=ConfirmForm(),
        decay=float(DECAY),
        unknown_depth=UNKNOWN_DEPTH,
        neutral=NEUTRAL_RISK,
    )


@bp.post("/c/<slug>/risk/recompute")
@company_view(Role.reviewer)
def recompute(slug: str):
    if not ConfirmForm().validate_on_submit():
        abort(400, description="The form expired; reload the page and try again.")
    report = services.recompute_company(db_session(), g.company, actor=_actor())
    flash(
        f"Risk recomputed: {report.projects} projects, {report.changed} changed since the "
        "last run.",
        "success",
    )
    return redirect(url_for("risk.exposure", slug=slug))


@bp.get("/c/<slug>/risk/projects/<int:project_id>")
@company_view()
def project(slug: str, project_id: int):
    session = db_session()
    found = services.project_risk(session, g.company.id, project_id)
    if found is None:
        abort(404)
    snapshot = found.snapshot
    products_total = services.products_total(session, g.company.id)
    chart = history_chart(
        [(row.taken_on, row.score) for row in found.history if row.score is not None],
        title="Risk score over time",
        y_title="Risk score",
        step=True,
        # Still in use: its last score holds until today.
        until=utcnow().date() if found.current is not None else None,
        range_=(0, 100),
    )
    return render_template(
        "risk/project.html",
        company=g.company,
        found=found,
        snapshot=snapshot,
        sentences=explain(snapshot.breakdown, {"products_total": products_total}),
        catalogue=CATALOGUE,
        chart=chart,
        source_labels=SOURCE_LABELS,
    )


@bp.route("/c/<slug>/risk/weights", methods=["GET", "POST"])
@company_view()
def weights(slug: str):
    session = db_session()
    can_edit = g.membership.role.at_least(Role.owner)
    overrides = services.weight_overrides(session, g.company.id)
    values = {name: overrides.get(name, DEFAULT_WEIGHTS[name]) for name in SIGNAL_NAMES}
    errors: dict[str, str] = {}
    form = WeightsForm()
    if request.method == "POST":
        if not can_edit:
            abort(403, description="Only owners can change risk weights.")
        if not form.validate_on_submit() and form.csrf_token.errors:
            abort(400, description="The form expired; reload the page and try again.")
        if form.reset.data:
            submitted = {}
        else:
            submitted, errors = form.weights, form.problems
            values.update({name: form[name].text for name in SIGNAL_NAMES})
        if not errors:
            try:
                savepoint(lambda s: services.set_weights(s, _actor(), g.company, submitted))
            except services.RiskError as exc:
                errors[(exc.field or "weights").removeprefix("weights.")] = exc.message
            else:
                queue_recompute(session, g.company.id)  # weights are an input of every score
                flash(
                    "Risk weights saved; scores are being recomputed with them "
                    "(“Recompute now” on the risk page does it at once).",
                    "success",
                )
                return redirect(url_for("risk.weights", slug=slug))
    return render_template(
        "risk/weights.html",
        company=g.company,
        names=SIGNAL_NAMES,
        catalogue=CATALOGUE,
        defaults=DEFAULT_WEIGHTS,
        values=values,
        errors=errors,
        can_edit=can_edit,
        form=form,
    ), 400 if errors else 200
