"""The review workflow: submit, approve, reject.

- **Approval** (reviewers and owners): from draft or in review; with four eyes on, the
  last person who changed the proposal (generated it by hand, adjusted it, or changed the
  policy while it was open) cannot approve it. Four eyes holds for a proposal when the
  policy has it on now or had it on at any time while the proposal was open, so turning
  it off never frees one's own change. One transaction: the state, the pledges, the audit
  events, the in-app notices and the queued e-mail / webhook tasks; the caller commits.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from service.allocation.errors import ProposalError, require_open
from service.allocation.models import (
    LineKind,
    Proposal,
    ProposalLine,
    ProposalState,
)
from service.allocation.policy_store import policy_row
from service.audit.services import Actor, record
from service.companies.models import Role
from service.companies.services import role_of
from service.core.clock import utcnow


def _require_reviewer(session: Session, actor: Actor, proposal: Proposal, doing: str) -> None:
    role = role_of(session, proposal.company_id, actor.user_id)
    if role is None or not role.at_least(Role.reviewer):
        raise PermissionError(f"Only reviewers and owners can {doing} proposals.")


def four_eyes_applies(session: Session, proposal: Proposal) -> bool:
    """Whether approving the proposal needs someone other than its last editor."""
    row = policy_row(session, proposal.company_id)
    return proposal.four_eyes or row is None or row.four_eyes


def submit_for_review(
    session: Session, actor: Actor, proposal: Proposal, now: datetime | None = None
) -> Proposal:
    """Draft → in review; reviewers and owners are told it is ready."""
    now = now or utcnow()
    if proposal.state != ProposalState.draft.value:
        raise ProposalError(
            f"Only a draft can be submitted for review; this one is "
            f"{proposal.state.replace('_', ' ')}."
        )
    proposal.state = ProposalState.in_review.value
    proposal.submitted_at = now
    proposal.submitted_by_id = actor.user_id
    session.add(proposal)
    record(
        session,
        actor,
        "proposal.submitted",
        company_id=proposal.company_id,
        obj=proposal,
        period=proposal.period,
        revision=proposal.revision,
    )
    from service.allocation.notices import announce

    announce(session, proposal, "proposal.ready", actor=actor, now=now)
    return proposal


def approve(
    session: Session,
    actor: Actor,
    proposal: Proposal,
    comment: str | None = None,
    now: datetime | None = None,
) -> Proposal:
    """Approve: pledges follow it, reviewers are told, in the caller's one transaction."""
    from service.allocation.notices import announce
    from service.pledges.approval import apply_approval

    now = now or utcnow()
    _require_reviewer(session, actor, proposal, "approve")
    require_open(proposal, "approved")
    if four_eyes_applies(session, proposal) and proposal.last_edited_by_id == actor.user_id:
        raise ProposalError(
            "Four-eyes approval is on: you made the last change to this proposal, so another "
            "reviewer or owner has to approve it."
        )
    comment = (comment or "").strip() or None
    proposal.state = ProposalState.approved.value
    proposal.decided_by_id = actor.user_id
    proposal.decided_at = now
    proposal.decision_comment = comment[:2000] if comment else None
    session.add(proposal)
    change = apply_approval(
        session,
        actor,
        company_id=proposal.company_id,
        proposal_id=proposal.id,
        period=proposal.period,
        currency=proposal.currency,
        amounts=_pledged_amounts(session, proposal),
        now=now,
    )
    record(
        session,
        actor,
        "proposal.approved",
        company_id=proposal.company_id,
        obj=proposal,
        period=proposal.period,
        revision=proposal.revision,
        paid_minor=proposal.paid_minor,
        held_minor=proposal.held_minor,
        remainder_minor=proposal.remainder_minor,
        comment=proposal.decision_comment,
        pledges={
            "created": change.created,
            "updated": change.updated,
            "unchanged": change.unchanged,
            "cancelled": change.cancelled,
        },
    )
    announce(session, proposal, "proposal.approved", actor=actor, now=now)
    return proposal


def _pledged_amounts(session: Session, proposal: Proposal) -> dict[int, int]:
    """{project id: amount}: a project's pledge for the month is its line plus any
    catch-up of its reserve."""
    paid: dict[int, int] = {}
    for project_id, amount in session.exec(
        select(ProposalLine.project_id, ProposalLine.amount_minor).where(
            ProposalLine.proposal_id == proposal.id,
            col(ProposalLine.kind).in_([LineKind.line.value, LineKind.catch_up.value]),
        )
    ).all():
        paid[project_id] = paid.get(project_id, 0) + amount
    return paid


def reject(
    session: Session,
    actor: Actor,
    proposal: Proposal,
    comment: str | None,
    now: datetime | None = None,
) -> Proposal:
    now = now or utcnow()
    _require_reviewer(session, actor, proposal, "reject")
    require_open(proposal, "rejected")
    comment = (comment or "").strip()
    if not comment:
        raise ProposalError("Say why the proposal is rejected (the comment is kept).", "comment")
    proposal.state = ProposalState.rejected.value
    proposal.decided_by_id = actor.user_id
    proposal.decided_at = now
    proposal.decision_comment = comment[:2000]
    session.add(proposal)
    record(
        session,
        actor,
        "proposal.rejected",
        company_id=proposal.company_id,
        obj=proposal,
        period=proposal.period,
        revision=proposal.revision,
        comment=proposal.decision_comment,
    )
    return proposal
