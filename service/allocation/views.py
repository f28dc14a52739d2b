"""Allocation pages: the company's policy, its proposals, and the monthly review.

Every page goes through `company_view` (404 for other tenants); viewers read, reviewers
and owners change. Sorting and filtering are query parameters handled on the server;
every change is a plain POST form with a CSRF token, recomputed at once on the server,
so nothing needs JavaScript. Actions carry the revision the person was looking at: when
a newer revision exists the action is refused instead of applying to something unseen.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_wtf.csrf import generate_csrf

from service.accounts.auth import current_user
from service.allocation import unpaid
from service.allocation.adjustments import adjust as adjust_proposal
from service.allocation.adjustments import remove_adjustment as remove_proposal_adjustment
from service.allocation.errors import ProposalError
from service.allocation.forms import (
    LIST_FIELDS,
    AdjustForm,
    DecisionForm,
    LinesForm,
    PolicyForm,
    RevisionArgs,
    RevisionForm,
)
from service.allocation.generation import generate_proposal
from service.allocation.infrastructure.stewards import (
    plan_for,
    registry_footprint,
    registry_table,
)
from service.allocation.models import OPEN_STATES, Proposal, ProposalState
from service.allocation.periods import PERIOD_PATTERN
from service.allocation.policy import POLICY_FIELDS, Policy
from service.allocation.policy_store import company_policy, policy_row, save_policy
from service.allocation.queries import (
    proposal_for,
    proposals_of,
    proposals_of_period,
    summary_line,
    users_by_id,
)
from service.allocation.review import approve, four_eyes_applies, reject, submit_for_review
from service.allocation.review_lines import FLAGS, SORTS, review_lines
from service.audit.services import Actor
from service.companies.access import company_view
from service.companies.forms import ConfirmForm
from service.companies.models import Role
from service.core.clock import current_period
from service.core.services import get_secrets, get_settings
from service.db import db_session, savepoint
from service.money import format_amount
from service.projects.views import project_url

bp = Blueprint("allocation", __name__)


def _actor() -> Actor:
    return Actor(user_id=current_user().id)


def _can_edit() -> bool:
    return g.membership.role.at_least(Role.reviewer)


def _is_owner() -> bool:
    # The budget, the policy and the risk weights are the owners' to change.
    return g.membership.role.at_least(Role.owner)


@bp.app_context_processor
def _allocation_helpers() -> dict:
    return {"format_amount": format_amount}


# Policy ------------------------------------------------------------------------------------


@bp.route("/c/<slug>/policy", methods=["GET", "POST"])
@company_view()
def policy(slug: str):
    company = g.company
    session = db_session()
    row = policy_row(session, company.id)
    current = company_policy(session, company).to_dict(company.currency)
    values = _policy_values(current)
    values["four_eyes"] = row.four_eyes if row else True
    values["notify_email"] = row.notify_email if row else True
    values["webhook_url"] = (row.webhook_url if row else None) or ""
    has_secret = bool(row and row.webhook_secret)
    errors: dict[str, str] = {}
    form = PolicyForm()
    if request.method == "POST":
        if not _is_owner():
            abort(403, description="Only owners can change the allocation policy.")
        if not form.validate_on_submit() and form.csrf_token.errors:
            abort(400, description="The form expired; reload the page and try again.")
        values = {name: form[name].text for name in POLICY_FIELDS}
        values["four_eyes"] = form.four_eyes.data
        values["notify_email"] = form.notify_email.data
        values["webhook_url"] = form.webhook_url.data or ""
        errors = form.problems
        if not errors:
            settings = get_settings()
            try:
                savepoint(
                    lambda s: save_policy(
                        s,
                        _actor(),
                        company,
                        form.policy,
                        four_eyes=form.four_eyes.data,
                        notify_email=form.notify_email.data,
                        webhook_url=form.webhook_url.data,
                        webhook_secret=form.webhook_secret.data,
                        seal=get_secrets().seal,
                        allow_http=not settings.is_production,
                        allow_hosts=settings.outbound_allow_hosts,
                    )
                )
            except ProposalError as exc:
                errors[_field_name(exc.field)] = exc.message
            else:
                flash(
                    "Policy saved. It applies to the next proposal generated "
                    "(“Preview now” on the proposals page makes one at once).",
                    "success",
                )
                return redirect(url_for("allocation.policy", slug=slug))
    return render_template(
        "allocation/policy.html",
        company=company,
        values=values,
        errors=errors,
        defaults=_policy_values(Policy().to_dict(company.currency)),
        has_secret=has_secret,
        can_edit=_is_owner(),
        form=form,
        row=row,
    ), 400 if errors else 200


def _policy_values(policy: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in POLICY_FIELDS:
        value = policy.get(name)
        if name in LIST_FIELDS:
            values[name] = "\n".join(value or [])
        elif name == "boosts":
            values[name] = "\n".join(f"{key} = {factor}" for key, factor in (value or {}).items())
        else:
            values[name] = "" if value is None else str(value)
    return values


def _field_name(field: str | None) -> str:
    if not field:
        return "policy"
    for separator in ("[", "."):
        field = field.split(separator, 1)[0]
    return field


@bp.get("/c/<slug>/registries")
@company_view()
def registries(slug: str):
    """Who runs the registries of the company's ecosystems, and its dependence on each."""
    session = db_session()
    policy = company_policy(session, g.company)
    table = registry_table(get_settings().infrastructure_table)
    plan = plan_for(session, g.company.id, table, policy, g.company.monthly_budget_minor)
    month = current_period()
    footprint = registry_footprint(session, g.company.id, month)
    return render_template(
        "allocation/registries.html",
        company=g.company,
        plan=plan,
        table=table,
        policy=policy,
        month=month,
        footprint=footprint,
    )


# Proposals ---------------------------------------------------------------------------------


@bp.get("/c/<slug>/proposals")
@company_view()
def proposals(slug: str):
    session = db_session()
    rows = proposals_of(session, g.company.id)
    return render_template(
        "allocation/proposals.html",
        company=g.company,
        proposals=rows,
        period=current_period(),
        users=users_by_id(session, [p.decided_by_id for p in rows]),
        can_edit=_can_edit(),
        confirm=ConfirmForm(),
    )


@bp.get("/c/<slug>/proposals/<period>/not-paid")
@company_view()
def not_paid(slug: str, period: str):
    """Who was not paid this month and why, the reserves, and invitations to send."""
    proposal = _proposal_or_404(period, RevisionArgs(request.args).revision.data)
    found = unpaid.not_paid(db_session(), proposal)
    invitations = {
        entry.project_id: unpaid.invitation(
            entry,
            company=g.company.name,
            currency=proposal.currency,
            claim_url=_claim_url(entry.key),
        )
        for entry in found.invited
    }
    return render_template(
        "allocation/not_paid.html",
        company=g.company,
        proposal=proposal,
        found=found,
        invitations=invitations,
        next_steps=unpaid.NEXT_STEPS,
    )


def _claim_url(key: str) -> str:
    """The project's public page, where its maintainers claim it (the configured public
    address when there is one: an invitation leaves the building)."""
    public_url = get_settings().public_url or request.host_url
    return public_url.rstrip("/") + project_url(key)


@bp.post("/c/<slug>/proposals/preview")
@company_view(Role.reviewer)
def preview(slug: str):
    if not ConfirmForm().validate_on_submit():
        abort(400, description="The form expired; reload the page and try again.")
    period = current_period()
    try:
        proposal = savepoint(
            lambda s: generate_proposal(s, _actor(), g.company, period, replace=True)
        )
    except ProposalError as exc:
        flash(exc.message, "error")
        return redirect(url_for("allocation.proposals", slug=slug))
    flash(
        f"Proposal for {period} computed (revision {proposal.revision}): {summary_line(proposal)}.",
        "success",
    )
    return redirect(url_for("allocation.review", slug=slug, period=period))


def _proposal_or_404(period: str, revision: int | None = None) -> Proposal:
    if not PERIOD_PATTERN.match(period):
        abort(404)
    found = proposal_for(db_session(), g.company.id, period, revision)
    if found is None:
        abort(404, description=f"There is no proposal for {period}.")
    return found


@bp.get("/c/<slug>/proposals/<period>")
@company_view()
def review(slug: str, period: str):
    form = LinesForm(request.args)
    query = form.query
    proposal = _proposal_or_404(period, query.revision)
    session = db_session()
    found = review_lines(session, proposal, query)
    can_edit = _can_edit() and proposal.state in OPEN_STATES
    four_eyes_blocked = bool(
        can_edit
        and proposal.last_edited_by_id == current_user().id
        and four_eyes_applies(session, proposal)
    )
    return render_template(
        "allocation/review.html",
        company=g.company,
        proposal=proposal,
        lines=found.lines,
        matching=found.matching,
        pages=found.pages,
        total_payable=found.total_payable,
        paid_count=found.paid_count,
        keys=found.keys,
        omitted=found.omitted,
        omitted_total=found.omitted_total,
        omitted_counts=found.omitted_counts,
        diff=found.diff,
        adjustments=found.adjustments,
        active=found.active,
        people=found.people,
        users=found.users,
        query=found.query,
        errors=list(form.problems.values()),
        sorts=SORTS,
        flags=FLAGS,
        can_edit=can_edit,
        can_review=_can_edit(),
        four_eyes_blocked=four_eyes_blocked,
        revisions=proposals_of_period(session, g.company.id, period),
        csrf=generate_csrf() if can_edit else "",
        confirm=ConfirmForm(),
        currency=proposal.currency,
        states=ProposalState,
    ), 400 if form.problems else 200


def _open_proposal(period: str, revision: int | None) -> Proposal | None:
    """The open proposal of the period, if the person acted on its current revision."""
    proposal = _proposal_or_404(period)
    if proposal.state not in OPEN_STATES:
        flash(
            f"The proposal for {period} is {proposal.state.replace('_', ' ')}; "
            "it cannot be changed.",
            "error",
        )
        return None
    if revision is not None and revision != proposal.revision:
        flash(
            f"The proposal for {period} changed since you loaded it (now revision "
            f"{proposal.revision}); nothing was done. Review the current revision first.",
            "error",
        )
        return None
    return proposal


def _back(slug: str, period: str, **params):
    return redirect(url_for("allocation.review", slug=slug, period=period, **params))


def _run(change, success: str) -> bool:
    try:
        savepoint(change)
    except ProposalError as exc:
        flash(exc.message, "error")
        return False
    except PermissionError as exc:
        abort(403, description=str(exc))
    flash(success, "success")
    return True


@bp.post("/c/<slug>/proposals/<period>/adjust")
@company_view(Role.reviewer)
def adjust(slug: str, period: str):
    form = AdjustForm()
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400, description="The form expired; reload the page and try again.")
        flash("Choose an adjustment and give its value.", "error")
        return _back(slug, period)
    proposal = _open_proposal(period, form.revision.data)
    if proposal is not None:
        _run(
            lambda s: adjust_proposal(
                s,
                _actor(),
                proposal,
                form.project_id.data,
                form.kind.data,
                form.value.data,
                form.note.data,
            ),
            "Adjusted and recomputed.",
        )
    return _back(slug, period, **_kept_query())


@bp.post("/c/<slug>/proposals/<period>/adjustments/<int:adjustment_id>/remove")
@company_view(Role.reviewer)
def remove_adjustment(slug: str, period: str, adjustment_id: int):
    form = RevisionForm()
    if not form.validate_on_submit():
        abort(400, description="The form expired; reload the page and try again.")
    proposal = _open_proposal(period, form.revision.data)
    if proposal is not None:
        _run(
            lambda s: remove_proposal_adjustment(s, _actor(), proposal, adjustment_id),
            "Adjustment removed and recomputed.",
        )
    return _back(slug, period, **_kept_query())


@bp.post("/c/<slug>/proposals/<period>/submit")
@company_view(Role.reviewer)
def submit(slug: str, period: str):
    form = RevisionForm()
    if not form.validate_on_submit():
        abort(400, description="The form expired; reload the page and try again.")
    proposal = _open_proposal(period, form.revision.data)
    if proposal is not None:
        _run(
            lambda s: submit_for_review(s, _actor(), proposal),
            "Submitted for review; reviewers and owners have been told.",
        )
    return _back(slug, period)


@bp.post("/c/<slug>/proposals/<period>/decide")
@company_view(Role.reviewer)
def decide(slug: str, period: str):
    form = DecisionForm()
    if not form.validate_on_submit():
        abort(400, description="The form expired; reload the page and try again.")
    proposal = _open_proposal(period, form.revision.data)
    if proposal is None:
        return _back(slug, period)
    if form.decision.data == "approve":
        _run(
            lambda s: approve(s, _actor(), proposal, form.comment.data),
            f"Approved: the pledges now follow the proposal for {period}.",
        )
    elif form.decision.data == "reject":
        _run(
            lambda s: reject(s, _actor(), proposal, form.comment.data),
            f"Rejected. “Preview now” makes a new proposal for {period}.",
        )
    else:
        flash("Choose approve or reject.", "error")
    return _back(slug, period)


def _kept_query() -> dict[str, Any]:
    """Filters and sort of the page the form was on (sent back as hidden fields)."""
    return LinesForm(request.form, prefix="keep_").query.params(revision=None)
