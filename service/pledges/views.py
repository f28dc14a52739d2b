"""Pledge pages: Company → Pledges (filters and totals), a pledge with its payments and
history, and the forms that change them.

Every page goes through `company_view` (404 for other tenants): viewers read, reviewers
and owners record payments and make manual pledges, owners cancel and set the due day.
Filters are a GET form; every change is a POST form with a CSRF token; a refused change
shows the page again with the message next to the field it names.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from sqlmodel import Session

from service.accounts.auth import current_user
from service.audit.services import Actor
from service.companies.access import company_view
from service.companies.forms import ConfirmForm
from service.companies.models import Role
from service.core.clock import utcnow
from service.core.services import get_settings
from service.db import db_session
from service.money import format_amount
from service.pledges import services
from service.pledges.exporting import export_of, exports_of, make_export
from service.pledges.exports import KINDS as EXPORT_KINDS
from service.pledges.lifecycle import PLATFORMS, TransitionError, period_of
from service.pledges.models import PledgeState, Recurrence

bp = Blueprint("pledges", __name__)


def _actor() -> Actor:
    return Actor(user_id=current_user().id)


def _render(template: str, errors: dict[str, str] | None, status: int, **context):
    """A pledge page with what every one of them shows: roles, the CSRF form, and after a
    refused change the message next to its field with the values sent."""
    return render_template(
        template,
        company=g.company,
        errors=errors or {},
        form=request.form if errors else {},
        platforms=PLATFORMS,
        can_edit=g.membership.role.at_least(Role.reviewer),
        is_owner=g.membership.role.at_least(Role.owner),
        confirm=ConfirmForm(),
        **context,
    ), status


def _own_pledge(session: Session, pledge_id: int) -> services.PledgeRow:
    row = services.pledge_of(session, g.company.id, pledge_id)
    if row is None:
        abort(404)
    return row


def _errors(exc: TransitionError) -> dict[str, str]:
    return {exc.field or "form": exc.message}


def _checked() -> None:
    if not ConfirmForm().validate_on_submit():
        abort(400, description="The form expired; reload the page and try again.")


@bp.get("/c/<slug>/pledges")
@company_view()
def index(slug: str, errors: dict[str, str] | None = None, status: int = 200):
    session = db_session()
    filters, filter_errors = services.parse_filters(request.args)
    listing = services.list_pledges(session, g.company.id, filters)
    return _render(
        "pledges/index.html",
        errors,
        status,
        listing=listing,
        filters=filters,
        filter_errors=filter_errors,
        states=list(PledgeState),
        recurrences=list(Recurrence),
        due_day=services.due_day(session, g.company.id),
        this_period=period_of(utcnow().date()),
        export_kinds=EXPORT_KINDS,
        exports=exports_of(session, g.company.id)[:10],
    )


@bp.post("/c/<slug>/pledges")
@company_view(Role.reviewer)
def create(slug: str):
    _checked()
    session = db_session()
    form = request.form
    try:
        pledge = services.create_manual(
            session,
            _actor(),
            company_id=g.company.id,
            currency=g.company.currency,
            project_key=form.get("project", ""),
            period=form.get("period", ""),
            amount=form.get("amount", ""),
            recurrence=form.get("recurrence", Recurrence.once.value),
            note=form.get("note", ""),
        )
    except TransitionError as exc:
        session.rollback()
        return index(slug=slug, errors=_errors(exc), status=400)
    session.commit()
    flash(f"Pledge made for {pledge.period}.", "success")
    return redirect(url_for("pledges.show", slug=slug, pledge_id=pledge.id))


@bp.post("/c/<slug>/pledges/settings")
@company_view(Role.owner)
def settings(slug: str):
    _checked()
    session = db_session()
    try:
        day = services.set_due_day(session, _actor(), g.company.id, request.form.get("due_day", ""))
    except TransitionError as exc:
        session.rollback()
        return index(slug=slug, errors=_errors(exc), status=400)
    session.commit()
    flash(f"New pledges are due on day {day} of the following month.", "success")
    return redirect(url_for("pledges.index", slug=slug))


@bp.get("/c/<slug>/pledges/<int:pledge_id>")
@company_view()
def show(slug: str, pledge_id: int, errors: dict[str, str] | None = None, status: int = 200):
    session = db_session()
    row = _own_pledge(session, pledge_id)
    events = services.history(session, row.pledge)
    return _render(
        "pledges/show.html",
        errors,
        status,
        row=row,
        pledge=row.pledge,
        payments=services.payments_of(session, row.pledge),
        history=events,
        people=services.logins(session, [e.actor_user_id for e in events]),
        today=utcnow().date().isoformat(),
    )


@bp.post("/c/<slug>/pledges/<int:pledge_id>/payments")
@company_view(Role.reviewer)
def pay(slug: str, pledge_id: int):
    _checked()
    session = db_session()
    row = _own_pledge(session, pledge_id)
    form = request.form
    try:
        payment = services.record_payment(
            session,
            _actor(),
            row.pledge,
            amount=form.get("amount", ""),
            currency=form.get("currency", row.pledge.currency),
            paid_on=form.get("paid_on", ""),
            platform=form.get("platform", ""),
            reference=form.get("reference", ""),
            confirm_overpayment=form.get("confirm_overpayment") == "yes",
        )
    except TransitionError as exc:
        session.rollback()
        return show(slug=slug, pledge_id=pledge_id, errors=_errors(exc), status=400)
    session.commit()
    note = " (an over-payment)" if payment.overpayment else ""
    flash(
        f"Payment of {format_amount(payment.amount_minor, payment.currency)} "
        f"{payment.currency} recorded{note}.",
        "success",
    )
    return redirect(url_for("pledges.show", slug=slug, pledge_id=pledge_id))


@bp.post("/c/<slug>/pledges/<int:pledge_id>/cancel")
@company_view(Role.owner)
def cancel(slug: str, pledge_id: int):
    _checked()
    session = db_session()
    row = _own_pledge(session, pledge_id)
    try:
        services.cancel(session, _actor(), row.pledge, request.form.get("reason", ""))
    except TransitionError as exc:
        session.rollback()
        return show(slug=slug, pledge_id=pledge_id, errors=_errors(exc), status=400)
    session.commit()
    flash("Pledge cancelled.", "success")
    return redirect(url_for("pledges.show", slug=slug, pledge_id=pledge_id))


# Exports ---------------------------------------------------------------------------------------


@bp.post("/c/<slug>/pledges/exports")
@company_view(Role.reviewer)
def export(slug: str):
    _checked()
    session = db_session()
    kind = request.form.get("kind", "")
    if kind not in EXPORT_KINDS:
        abort(400, description=f"Choose an export: {', '.join(EXPORT_KINDS)}.")
    try:
        _made, row = make_export(
            session,
            _actor(),
            company_id=g.company.id,
            slug=slug,
            period=request.form.get("period", ""),
            kind=kind,
            row_limit=get_settings().github_sponsors_row_limit,
        )
    except TransitionError as exc:
        session.rollback()
        return index(slug=slug, errors=_errors(exc), status=400)
    session.commit()
    return redirect(url_for("pledges.export_page", slug=slug, export_id=row.id))


@bp.get("/c/<slug>/pledges/exports/<int:export_id>")
@company_view()
def export_page(slug: str, export_id: int):
    session = db_session()
    row = export_of(session, g.company.id, export_id)
    if row is None:
        abort(404)
    made_by = services.logins(session, [row.made_by_id]).get(row.made_by_id) or row.made_by_label
    return _render("pledges/export.html", None, 200, export=row, made_by=made_by)


@bp.get("/c/<slug>/pledges/exports/<int:export_id>/files/<name>")
@company_view()
def export_file(slug: str, export_id: int, name: str):
    row = export_of(db_session(), g.company.id, export_id)
    found = next((f for f in row.files if f["name"] == name), None) if row else None
    if found is None:
        abort(404)
    mimetype = "application/json" if name.endswith(".json") else "text/csv"
    return Response(
        found["content"].encode(),
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
