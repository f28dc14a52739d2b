"""Company pages: create, home, settings, members and invitations, API tokens, linked orgs."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from service.accounts.auth import current_user, login_required
from service.accounts.services import github_token
from service.audit.services import Actor
from service.companies import services
from service.companies.access import company_view
from service.companies.forms import (
    CompanyForm,
    ConfirmForm,
    InviteForm,
    OrgForm,
    RoleForm,
    SettingsForm,
    TokenForm,
)
from service.companies.models import Role
from service.core.services import get_github, get_secrets
from service.db import db_session, savepoint
from service.money import MoneyError, format_amount, parse_amount

bp = Blueprint("companies", __name__)


@bp.get("/")
def landing():
    """The start page: sign in, or the company to work on."""
    user = current_user()
    if user is None:
        return render_template("core/landing.html")
    companies = services.companies_of(db_session(), user)
    if not companies:  # a maintainer who belongs to no company: their own projects
        return redirect(url_for("projects.my_projects"))
    active = session.get("company")
    for company, _role in companies:
        if company.slug == active or len(companies) == 1:
            return redirect(url_for("overview.home", slug=company.slug))
    return render_template("core/choose_company.html", companies=companies)


def _actor() -> Actor:
    return Actor(user_id=current_user().id)


def _change_or_flash(change) -> bool:
    """Run a service change in a savepoint; flash its error (the change undone) instead of
    failing."""
    try:
        savepoint(change)
        return True
    except (services.CompanyError, MoneyError) as exc:
        flash(getattr(exc, "message", str(exc)), "error")
        return False


@bp.route("/companies/new", methods=["GET", "POST"])
@login_required
def create():
    form = CompanyForm()
    if form.validate_on_submit():
        try:
            budget = parse_amount(form.budget.data or "0", form.currency.data)
        except MoneyError as exc:
            form.budget.errors.append(str(exc))
        else:
            created = []
            if _change_or_flash(
                lambda s: created.append(
                    services.create_company(
                        s,
                        _actor(),
                        slug=form.slug.data,
                        name=form.name.data,
                        currency=form.currency.data,
                        budget_minor=budget,
                        owner=current_user(),
                    )
                )
            ):
                flash(f"{created[0].name} is ready. You are its owner.", "success")
                return redirect(url_for("overview.home", slug=created[0].slug))
    return render_template("companies/new.html", form=form)


@bp.route("/c/<slug>/settings", methods=["GET", "POST"])
@company_view()
def settings(slug: str):
    company = g.company
    form = SettingsForm(
        name=company.name, budget=format_amount(company.monthly_budget_minor, company.currency)
    )
    can_edit = g.membership.role.at_least(Role.owner)  # the budget is the owners' to set
    if request.method == "POST" and not can_edit:
        abort(403, description="Only owners can change company settings.")
    if form.validate_on_submit():
        try:
            budget = parse_amount(form.budget.data, company.currency)
        except MoneyError as exc:
            form.budget.errors.append(str(exc))
        else:
            if _change_or_flash(
                lambda s: services.update_settings(
                    s, _actor(), company, name=form.name.data, budget_minor=budget
                )
            ):
                flash("Settings saved.", "success")
                return redirect(url_for("companies.settings", slug=slug))
    return render_template("companies/settings.html", company=company, form=form, can_edit=can_edit)


# Members -----------------------------------------------------------------------------------


@bp.get("/c/<slug>/members")
@company_view()
def members(slug: str):
    session_db = db_session()
    return render_template(
        "companies/members.html",
        company=g.company,
        members=services.members(session_db, g.company),
        invitations=services.pending_invitations(session_db, g.company),
        invite_form=InviteForm(),
        role_form=RoleForm(),
        confirm=ConfirmForm(),
        can_manage=g.membership.role == Role.owner,
    )


@bp.post("/c/<slug>/members/invite")
@company_view(Role.owner)
def invite(slug: str):
    form = InviteForm()
    if form.validate_on_submit() and _change_or_flash(
        lambda s: services.invite(s, _actor(), g.company, form.login.data, Role(form.role.data))
    ):
        flash(f"Invited {form.login.data}; they join when they next sign in.", "success")
    elif form.errors:
        flash("Give a GitHub login and a role.", "error")
    return redirect(url_for("companies.members", slug=slug))


@bp.post("/c/<slug>/members/<int:membership_id>/role")
@company_view(Role.owner)
def change_role(slug: str, membership_id: int):
    form = RoleForm()
    if form.validate_on_submit() and _change_or_flash(
        lambda s: services.change_role(s, _actor(), g.company, membership_id, Role(form.role.data))
    ):
        flash("Role changed.", "success")
    return redirect(url_for("companies.members", slug=slug))


@bp.post("/c/<slug>/members/<int:membership_id>/remove")
@company_view(Role.owner)
def remove_member(slug: str, membership_id: int):
    if ConfirmForm().validate_on_submit() and _change_or_flash(
        lambda s: services.remove_member(s, _actor(), g.company, membership_id)
    ):
        flash("Member removed.", "success")
    return redirect(url_for("companies.members", slug=slug))


@bp.post("/c/<slug>/invitations/<int:invitation_id>/revoke")
@company_view(Role.owner)
def revoke_invitation(slug: str, invitation_id: int):
    if ConfirmForm().validate_on_submit() and _change_or_flash(
        lambda s: services.revoke_invitation(s, _actor(), g.company, invitation_id)
    ):
        flash("Invitation withdrawn.", "success")
    return redirect(url_for("companies.members", slug=slug))


# API tokens --------------------------------------------------------------------------------


@bp.route("/c/<slug>/tokens", methods=["GET", "POST"])
@company_view(Role.owner)
def tokens(slug: str):
    form = TokenForm()
    issued = None
    if form.validate_on_submit():
        result = []
        if _change_or_flash(
            lambda s: result.append(
                services.create_token(
                    s, _actor(), g.company, name=form.name.data, scopes=form.scopes.data or []
                )
            )
        ):
            issued = result[0]
    return render_template(
        "companies/tokens.html",
        company=g.company,
        form=form,
        issued=issued,
        tokens=services.company_tokens(db_session(), g.company),
        confirm=ConfirmForm(),
    )


@bp.post("/c/<slug>/tokens/<int:token_id>/revoke")
@company_view(Role.owner)
def revoke_token(slug: str, token_id: int):
    if ConfirmForm().validate_on_submit() and _change_or_flash(
        lambda s: services.revoke_token(s, _actor(), g.company, token_id)
    ):
        flash("Token revoked; requests using it are now refused.", "success")
    return redirect(url_for("companies.tokens", slug=slug))


# Linked GitHub organisations ---------------------------------------------------------------


@bp.route("/c/<slug>/orgs", methods=["GET", "POST"])
@company_view()
def orgs(slug: str):
    form = OrgForm()
    can_manage = g.membership.role == Role.owner
    if form.validate_on_submit():
        if not can_manage:
            flash("Only owners can link organisations.", "error")
        elif _change_or_flash(
            lambda s: services.link_org(
                s,
                _actor(),
                g.company,
                form.org.data,
                github=get_github(),
                token=github_token(current_user(), get_secrets()),
            )
        ):
            flash(f"Linked {form.org.data}.", "success")
            return redirect(url_for("companies.orgs", slug=slug))
    return render_template(
        "companies/orgs.html",
        company=g.company,
        form=form,
        orgs=services.linked_orgs(db_session(), g.company),
        confirm=ConfirmForm(),
        can_manage=can_manage,
    )


@bp.post("/c/<slug>/orgs/<int:link_id>/unlink")
@company_view(Role.owner)
def unlink_org(slug: str, link_id: int):
    if ConfirmForm().validate_on_submit() and _change_or_flash(
        lambda s: services.unlink_org(s, _actor(), g.company, link_id)
    ):
        flash("Organisation unlinked.", "success")
    return redirect(url_for("companies.orgs", slug=slug))
