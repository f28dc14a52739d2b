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

from service.accounts.auth import current_user, login_required
from service.audit.services import Actor
from service.companies.access import company_view
from service.companies.forms import ConfirmForm
from service.companies.models import Role
from service.core.clock import utcnow
from service.core.services import get_settings
from service.db import db_session, savepoint
from service.money import format_amount
from service.pledges import pledge_report, services, transparency
from service.pledges.exporting import export_of, exports_of, make_export
from service.pledges.exports import KINDS as EXPORT_KINDS
from service.pledges.forms import PledgeFilterForm
from service.pledges.importing import (
    confirm_import,
    import_of,
    imports_of,
    proposed_mapping,
    start_import,
)
from service.pledges.lifecycle import PLATFORMS, TransitionError, parse_period, period_of
from service.pledges.models import PledgeState, Recurrence
from service.pledges.receipts import ENCODINGS, FIELDS, PRESETS, ReceiptError
from service.pledges.reconciliation import reconcile
from service.projects.services import only_company_linked, project_by_key

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
    filter_form = PledgeFilterForm(request.args)
    filters = filter_form.filters
    listing = services.list_pledges(session, g.company.id, filters)
    return _render(
        "pledges/index.html",
        errors,
        status,
        listing=listing,
        filters=filters,
        filter_errors=filter_form.problems,
        states=list(PledgeState),
        recurrences=list(Recurrence),
        pledge_settings=services.settings_of(session, g.company.id),
        this_period=period_of(utcnow().date()),
        export_kinds=EXPORT_KINDS,
        exports=exports_of(session, g.company.id)[:10],
    )


@bp.post("/c/<slug>/pledges")
@company_view(Role.reviewer)
def create(slug: str):
    _checked()
    form = request.form
    try:
        pledge = savepoint(
            lambda s: services.create_manual(
                s,
                _actor(),
                company_id=g.company.id,
                currency=g.company.currency,
                project_key=form.get("project", ""),
                period=form.get("period", ""),
                amount=form.get("amount", ""),
                recurrence=form.get("recurrence", Recurrence.once.value),
                note=form.get("note", ""),
            )
        )
    except TransitionError as exc:
        return index(slug=slug, errors=_errors(exc), status=400)
    flash(f"Pledge made for {pledge.period}.", "success")
    return redirect(url_for("pledges.show", slug=slug, pledge_id=pledge.id))


@bp.post("/c/<slug>/pledges/settings")
@company_view(Role.owner)
def settings(slug: str):
    _checked()
    try:
        saved = savepoint(
            lambda s: services.save_settings(
                s,
                _actor(),
                g.company.id,
                due_day=request.form.get("due_day", ""),
                anonymous=request.form.get("anonymous") == "yes",
                public=request.form.get("public") == "yes",
            )
        )
    except TransitionError as exc:
        return index(slug=slug, errors=_errors(exc), status=400)
    shown = "as anonymous company" if saved.anonymous else "by name"
    published = "published" if saved.public else "not published"
    flash(
        f"New pledges are due on day {saved.due_day} of the following month; maintainers "
        f"see {g.company.name} {shown}; its pledges and payments are {published}.",
        "success",
    )
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
        payment = savepoint(
            lambda s: services.record_payment(
                s,
                _actor(),
                row.pledge,
                amount=form.get("amount", ""),
                currency=form.get("currency", row.pledge.currency),
                paid_on=form.get("paid_on", ""),
                platform=form.get("platform", ""),
                reference=form.get("reference", ""),
                confirm_overpayment=form.get("confirm_overpayment") == "yes",
            )
        )
    except TransitionError as exc:
        return show(slug=slug, pledge_id=pledge_id, errors=_errors(exc), status=400)
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
        savepoint(
            lambda s: services.cancel(s, _actor(), row.pledge, request.form.get("reason", ""))
        )
    except TransitionError as exc:
        return show(slug=slug, pledge_id=pledge_id, errors=_errors(exc), status=400)
    flash("Pledge cancelled.", "success")
    return redirect(url_for("pledges.show", slug=slug, pledge_id=pledge_id))


# Exports ---------------------------------------------------------------------------------------


@bp.post("/c/<slug>/pledges/exports")
@company_view(Role.reviewer)
def export(slug: str):
    _checked()
    kind = request.form.get("kind", "")
    if kind not in EXPORT_KINDS:
        abort(400, description=f"Choose an export: {', '.join(EXPORT_KINDS)}.")
    try:
        _made, row = savepoint(
            lambda s: make_export(
                s,
                _actor(),
                company_id=g.company.id,
                slug=slug,
                period=request.form.get("period", ""),
                kind=kind,
                row_limit=get_settings().github_sponsors_row_limit,
            )
        )
    except TransitionError as exc:
        return index(slug=slug, errors=_errors(exc), status=400)
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


# Receipts and reconciliation -------------------------------------------------------------------


@bp.get("/c/<slug>/pledges/receipts")
@company_view()
def receipts_page(slug: str, errors: dict[str, str] | None = None, status: int = 200):
    return _render(
        "pledges/receipts.html",
        errors,
        status,
        presets=PRESETS,
        encodings=ENCODINGS,
        imports=imports_of(db_session(), g.company.id)[:20],
    )


@bp.post("/c/<slug>/pledges/receipts")
@company_view(Role.reviewer)
def upload_receipts(slug: str):
    _checked()
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return receipts_page(slug=slug, errors={"file": "Choose a CSV file."}, status=400)
    data = upload.read()  # read once: a retried savepoint gets the same bytes
    try:
        started = savepoint(
            lambda s: start_import(
                s,
                _actor(),
                company_id=g.company.id,
                data=data,
                filename=upload.filename,
                preset=request.form.get("preset", ""),
                encoding=request.form.get("encoding") or None,
            )
        )
    except ReceiptError as exc:
        return receipts_page(slug=slug, errors={"file": exc.message}, status=400)
    return redirect(url_for("pledges.receipt_import", slug=slug, import_id=started.id))


@bp.route("/c/<slug>/pledges/receipts/<int:import_id>", methods=["GET", "POST"])
@company_view()
def receipt_import(slug: str, import_id: int):
    session = db_session()
    upload = import_of(session, g.company.id, import_id)
    if upload is None:
        abort(404)
    problems: list[str] = []
    status = 200
    if request.method == "POST":
        if not g.membership.role.at_least(Role.reviewer):
            abort(403, description="This needs the reviewer role or higher.")
        _checked()
        mapping = {name: request.form.get(f"map_{name}", "") for name in FIELDS}
        try:
            savepoint(lambda s: confirm_import(s, _actor(), upload, mapping))
        except ReceiptError as exc:
            problems, status = exc.problems, 400
        else:
            flash("Receipts imported: every row is listed below with what it paid.", "success")
            return redirect(url_for("pledges.receipt_import", slug=slug, import_id=import_id))
    table, mapping = (None, {})
    if upload.status == "pending":
        table, mapping = proposed_mapping(session, upload)
        if request.method == "POST":
            mapping = {name: request.form.get(f"map_{name}", "") for name in FIELDS}
    return _render(
        "pledges/receipt_import.html",
        None,
        status,
        upload=upload,
        preset=PRESETS[upload.preset],
        table=table,
        mapping=mapping,
        fields=FIELDS,
        problems=problems,
    )


@bp.get("/c/<slug>/pledges/reconciliation")
@company_view()
def reconciliation(slug: str):
    session = db_session()
    listing = services.list_pledges(session, g.company.id, services.PledgeFilters())
    period = request.args.get("period") or (listing.periods[0] if listing.periods else None)
    error = None
    if period:
        try:
            parse_period(period)
        except TransitionError as exc:
            error, period = exc.message, None
    found = reconcile(session, g.company.id, period, g.company.currency) if period else None
    return _render(
        "pledges/reconciliation.html",
        None,
        400 if error else 200,
        periods=listing.periods,
        period=period,
        error=error,
        found=found,
        platform_labels=PLATFORMS,
    )


@bp.get("/c/<slug>/reports/open-source-pledge")
@company_view()
def open_source_pledge(slug: str):
    session = db_session()
    args = request.args
    year_text = (args.get("year") or str(utcnow().year - 1)).strip()
    report = error = None
    if args.get("developers"):
        try:
            if not year_text.isdigit() or len(year_text) != 4:
                raise pledge_report.ReportError(f"year: {year_text!r} is not a year (YYYY)")
            year = int(year_text)
            report = pledge_report.build(
                year,
                utcnow().date(),
                pledge_report.parse_developers(args["developers"]),
                services.paid_items(session, g.company.id, year),
                pledge_report.parse_rates(
                    r for r in args.get("rates", "").replace(",", " ").split()
                ),
            )
        except pledge_report.ReportError as exc:
            error = str(exc)
    if report is not None and args.get("format") in ("md", "json"):
        markdown = args["format"] == "md"
        body = (
            pledge_report.to_markdown(report, g.company.name)
            if markdown
            else pledge_report.to_json(report)
        )
        name = f"{slug}-open-source-pledge-{report.year}.{args['format']}"
        return Response(
            body.encode(),
            mimetype="text/markdown" if markdown else "application/json",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    return _render(
        "pledges/open_source_pledge.html",
        None,
        400 if error else 200,
        year=year_text,
        args=args,
        report=report,
        error=error,
        markdown=pledge_report.to_markdown(report, g.company.name) if report else None,
    )


@bp.get("/me/pledges")
@login_required
def incoming():
    """What companies pledged and paid to the projects the signed-in person maintains."""
    rows = services.incoming(db_session(), current_user().id)
    months: dict[str, list[services.IncomingPledge]] = {}
    for row in rows:
        months.setdefault(row.pledge.period, []).append(row)
    return render_template("pledges/incoming.html", months=months)


# Public transparency (opt-in per company; no sign-in) ---------------------------------------


@bp.get("/transparency")
def public_index():
    return render_template(
        "pledges/public_index.html", companies=transparency.public_companies(db_session())
    )


@bp.get("/transparency/<slug>")
def public_company(slug: str):
    session = db_session()
    company = transparency.public_company(session, slug)
    if company is None:
        abort(404)
    return render_template(
        "pledges/public_company.html", report=transparency.company_report(session, company)
    )


@bp.get("/transparency/projects/<host>/<path:rest>")
def public_project(host: str, rest: str):
    session = db_session()
    key = f"{host.lower()}/{rest.strip('/')}"
    project = project_by_key(session, key) or project_by_key(session, key.lower())
    if project is None or only_company_linked(session, project):
        abort(404)
    return render_template(
        "pledges/public_project.html",
        project=project,
        received=transparency.project_received(session, project),
    )
