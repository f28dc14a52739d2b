"""Pages: a company's projects and resolution progress, the public project page, and the
maintainer's own pages (my projects, claims, splits, payout channels).

Company pages go through `company_view` (404 for other tenants).  The public project
page shows only facts about the repository and its people — never which companies use it.
Everything that comes from package metadata is rendered escaped, and only http(s) URLs
become links (the `web_link` filter).
"""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from werkzeug.routing import Map, PathConverter
from wtforms import HiddenField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from service.accounts.auth import current_user, login_required
from service.accounts.services import github_token
from service.audit.services import Actor
from service.companies.access import company_view
from service.companies.forms import ConfirmForm
from service.companies.models import Role
from service.core.forms import PageForm
from service.core.services import get_github, get_secrets, get_settings
from service.core.views import migrations_gate
from service.db import db_session, savepoint
from service.projects import claims, payouts, services
from service.projects.claims import ClaimError
from service.projects.models import Project, ResolutionStatus
from service.projects.sources import github_web_host
from service.projects.urls import normalize_repo_url
from service.sboms.services import latest_sbom

bp = Blueprint("projects", __name__)
PER_PAGE = 100
_PATH = PathConverter(Map())  # quotes a key as url_for quotes a <path:> part


class ClaimForm(FlaskForm):
    project = HiddenField(validators=[DataRequired(), Length(max=300)])


class PayoutForm(FlaskForm):
    kind = SelectField(
        "Channel", choices=[SelectChoice(k, label) for k, label in payouts.PAYOUT_KINDS.items()]
    )
    value = StringField("Login, slug or URL", validators=[DataRequired(), Length(max=500)])
    minimum = StringField(
        "Smallest payment you accept, in USD (optional)", validators=[Length(max=20)]
    )


def _actor() -> Actor:
    return Actor(user_id=current_user().id)


@bp.app_template_global()
def project_url(key: str, endpoint: str = "projects.project_page") -> str:
    """The page of the project with this key ("github.com/owner/name"): its public page, or
    another page routed as `<host>/<path:rest>` (the transparency page). The address up to
    the key is built once per request, as the review page links thousands of projects."""
    prefixes: dict[str, str] = g.setdefault("project_url_prefixes", {})
    if endpoint not in prefixes:
        prefixes[endpoint] = url_for(endpoint, host="h", rest="r").removesuffix("h/r")
    return prefixes[endpoint] + _PATH.to_url(key)


@bp.app_template_filter("web_link")
def web_link(url: object, text: object = None) -> Markup:
    """A link only for http(s) URLs; anything else is shown as escaped text."""
    shown = escape(text if text is not None else (url or ""))
    if isinstance(url, str) and url.lower().startswith(("https://", "http://")):
        return Markup('<a href="{}" rel="nofollow noopener">{}</a>').format(url, shown)
    return Markup(shown)


@bp.before_app_request
def _show_notifications() -> None:
    """Notices (e.g. a lapsed claim) are flashed once on the person's next page view."""
    if request.method != "GET" or request.path.startswith(("/api/", "/static/")):
        return
    if request.endpoint in (None, "static", "core.healthz", "core.readyz"):
        return
    # This hook runs before the app's migrations gate: apply the gate first (it answers
    # 503 on a database behind the code, and remembers when it is not).
    migrations_gate()
    user = current_user()
    if user is None:
        return
    # Marked read in the request's transaction: committed when the page answers.
    for message in claims.take_unread(db_session(), user.id):
        flash(message, "info")


# Company pages --------------------------------------------------------------------------------


@bp.get("/c/<slug>/projects")
@company_view()
def company_projects(slug: str):
    session_db = db_session()
    sbom_ids = services.active_sbom_ids(session_db, g.company.id)
    page = PageForm(request.args).page.data
    rows, total = services.projects_of_sboms(
        session_db, g.company.id, sbom_ids, limit=PER_PAGE, offset=(page - 1) * PER_PAGE
    )
    progress = services.inventory_progress(session_db, sbom_ids)
    problems = services.packages_of_sboms(
        session_db,
        g.company.id,
        sbom_ids,
        statuses=[ResolutionStatus.unresolved.value, ResolutionStatus.error.value],
    )
    return render_template(
        "projects/company_projects.html",
        company=g.company,
        rows=rows,
        total=total,
        page=page,
        pages=max(1, -(-total // PER_PAGE)),
        progress=progress,
        problems=problems,
    )


@bp.route("/c/<slug>/products/<int:product_id>/resolution", methods=["GET", "POST"])
@company_view()
def product_resolution(slug: str, product_id: int):
    session_db = db_session()
    product = services.product_of(session_db, g.company.id, product_id)
    if product is None:
        abort(404)
    sbom = latest_sbom(session_db, product)
    can_queue = g.membership.role.at_least(Role.reviewer)
    if request.method == "POST":
        if not can_queue:
            abort(403, description="Resolving again needs the reviewer role or higher.")
        if sbom is not None and ConfirmForm().validate_on_submit():
            services.resolve_again(session_db, sbom)
            flash("Resolution queued; this page updates itself while it runs.", "success")
        return redirect(url_for("projects.product_resolution", slug=slug, product_id=product_id))
    sbom_ids = [sbom.id] if sbom else []
    progress = services.sbom_progress(session_db, sbom) if sbom else None
    page = PageForm(request.args).page.data
    rows, total = services.projects_of_sboms(
        session_db, g.company.id, sbom_ids, limit=PER_PAGE, offset=(page - 1) * PER_PAGE
    )
    problems = services.packages_of_sboms(
        session_db,
        g.company.id,
        sbom_ids,
        statuses=[ResolutionStatus.unresolved.value, ResolutionStatus.error.value],
    )
    return render_template(
        "projects/product_resolution.html",
        company=g.company,
        product=product,
        sbom=sbom,
        progress=progress,
        rows=rows,
        total=total,
        page=page,
        pages=max(1, -(-total // PER_PAGE)),
        problems=problems,
        can_queue=can_queue,
        confirm=ConfirmForm(),
    )


# The public project page --------------------------------------------------------------------


@bp.get("/projects/<host>/<path:rest>")
def project_page(host: str, rest: str):
    session_db = db_session()
    key = f"{host.lower()}/{rest.strip('/')}"
    project = services.project_by_key(session_db, key) or services.project_by_key(
        session_db, key.lower()
    )
    user = current_user()
    if project is None:
        abort(404)
    # Known only from companies' own SBOM links: shown to those companies' members only.
    if services.only_company_linked(session_db, project) and not (
        user and services.linked_for_member(session_db, project, user.id)
    ):
        abort(404)
    claimed = claims.active_claims(session_db, project)
    split = claims.current_split(session_db, project)
    preferred = payouts.preferred_channels(session_db, [u.id for _c, u in claimed])
    return render_template(
        "projects/project.html",
        project=project,
        packages=services.project_packages(session_db, project),
        maintainers=services.found_maintainers(session_db, project),
        channels=services.funding_channels(session_db, project),
        claimed=claimed,
        split=split,
        preferred=preferred,
        my_claim=claims.active_claim(session_db, project, user) if user else None,
        claimable=project.host == github_web_host(get_settings()),
        claim_form=ClaimForm(project=project.key),
    )


# My projects, claims and splits --------------------------------------------------------------


@bp.get("/me/projects")
@login_required
def my_projects():
    session_db = db_session()
    user = current_user()
    host = github_web_host(get_settings())
    return render_template(
        "projects/my_projects.html",
        claims_list=claims.my_claims(session_db, user),
        candidates=claims.candidates(
            session_db,
            user,
            host,
            claims.maintained_repos(get_github(), github_token(user, get_secrets())),
        ),
        claim_form=ClaimForm(),
        confirm=ConfirmForm(),
        labels=claims.EVIDENCE_LABELS,
        splits={
            project.id: (
                claims.current_split(session_db, project),
                claims.active_claims(session_db, project),
            )
            for claim, project in claims.my_claims(session_db, user)
            if claim.status == "active"
        },
    )


@bp.post("/me/projects/claim")
@login_required
def claim_project():
    form = ClaimForm()
    session_db = db_session()
    if not form.validate_on_submit():
        flash("Choose a project to claim.", "error")
        return redirect(url_for("projects.my_projects"))
    wanted = form.project.data.strip()
    repo = normalize_repo_url(wanted)
    project = services.project_by_key(session_db, wanted) or (
        services.project_by_key(session_db, repo.key) if repo else None
    )
    if project is None:
        flash(
            "Tributary does not know that repository: no package of any SBOM resolves to it.",
            "error",
        )
        return redirect(url_for("projects.my_projects"))
    user = current_user()
    try:
        token = github_token(user, get_secrets())
    except Exception:  # a token sealed with a rotated key is as good as none
        token = None
    try:
        created = savepoint(
            lambda s: claims.claim(
                s,
                _actor(),
                user,
                project,
                github=get_github(),
                token=token,
                github_host=github_web_host(get_settings()),
            )
        )
    except ClaimError as exc:
        flash(exc.message, "error")
    else:
        flash(
            f"You now maintain {project.key} here: {claims.EVIDENCE_LABELS[created.evidence]}.",
            "success",
        )
    return redirect(url_for("projects.my_projects"))


@bp.post("/me/claims/<int:claim_id>/release")
@login_required
def release_claim(claim_id: int):
    if ConfirmForm().validate_on_submit():
        try:
            savepoint(lambda s: claims.release(s, _actor(), current_user(), claim_id))
            flash("Claim released.", "success")
        except ClaimError as exc:
            flash(exc.message, "error")
    return redirect(url_for("projects.my_projects"))


def _my_project(project_id: int) -> Project:
    project = db_session().get(Project, project_id)
    if project is None or claims.active_claim(db_session(), project, current_user()) is None:
        abort(404)
    return project


@bp.post("/me/projects/<int:project_id>/split")
@login_required
def propose_split(project_id: int):
    session_db = db_session()
    project = _my_project(project_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        shares = {}
        for _claim, member in claims.active_claims(session_db, project):
            shares[member.id] = claims.parse_percent(request.form.get(f"share_{member.id}", "0"))
        proposal = savepoint(
            lambda s: claims.propose_split(s, _actor(), current_user(), project, shares)
        )
    except ClaimError as exc:
        flash(exc.message, "error")
    else:
        if proposal.status == "agreed":
            flash("The split is in force.", "success")
        else:
            flash("Split proposed; it holds once every co-maintainer accepts it.", "success")
    return redirect(url_for("projects.my_projects"))


@bp.post("/me/projects/<int:project_id>/split/<int:proposal_id>/accept")
@login_required
def accept_split(project_id: int, proposal_id: int):
    project = _my_project(project_id)
    if ConfirmForm().validate_on_submit():
        try:
            proposal = savepoint(
                lambda s: claims.accept_split(s, _actor(), current_user(), project, proposal_id)
            )
        except ClaimError as exc:
            flash(exc.message, "error")
        else:
            agreed = proposal.status == "agreed"
            flash(
                "The split is in force." if agreed else "Accepted; waiting for the others.",
                "success",
            )
    return redirect(url_for("projects.my_projects"))


# Payout channels ------------------------------------------------------------------------------


@bp.route("/me/payout", methods=["GET", "POST"])
@login_required
def payout():
    session_db = db_session()
    user = current_user()
    form = PayoutForm()
    status = 200
    if form.validate_on_submit():
        try:
            savepoint(
                lambda s: payouts.add_payout_channel(
                    s,
                    _actor(),
                    user,
                    form.kind.data,
                    form.value.data,
                    github=get_github(),
                    minimum=form.minimum.data or "",
                )
            )
        except ClaimError as exc:
            (form.minimum if exc.field == "minimum" else form.value).errors = [exc.message]
            status = 400
        else:
            flash("Payout channel added.", "success")
            return redirect(url_for("projects.payout"))
    elif request.method == "POST":
        status = 400
    return render_template(
        "projects/payout.html",
        form=form,
        channels=payouts.payout_channels(session_db, user.id),
        confirm=ConfirmForm(),
    ), status


@bp.post("/me/payout/<int:channel_id>/preferred")
@login_required
def payout_preferred(channel_id: int):
    return _payout_change(lambda s: payouts.set_preferred(s, _actor(), current_user(), channel_id))


@bp.post("/me/payout/<int:channel_id>/remove")
@login_required
def payout_remove(channel_id: int):
    return _payout_change(
        lambda s: payouts.remove_payout_channel(s, _actor(), current_user(), channel_id)
    )


def _payout_change(change):
    if ConfirmForm().validate_on_submit():
        try:
            savepoint(change)
        except ClaimError as exc:
            flash(exc.message, "error")
    return redirect(url_for("projects.payout"))
