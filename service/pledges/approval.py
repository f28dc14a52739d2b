"""The pledges an approved proposal makes for its period (``apply_approval``)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from service.audit.services import Actor
from service.core.clock import utcnow
from service.pledges import lifecycle
from service.pledges.models import Pledge, PledgeSource, PledgeState
from service.pledges.services import OPEN, add_pledge, channels_snapshot, due_day, transition
from service.projects.models import Project


@dataclass(frozen=True)
class PledgeChange:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    cancelled: int = 0


def apply_approval(
    session: Session,
    actor: Actor,
    *,
    company_id: int,
    proposal_id: int | None,
    period: str,
    currency: str,
    amounts: dict[int, int],
    now: datetime | None = None,
) -> PledgeChange:
    """The approved proposal's pledges for its period: ``{project id: amount}``.

    Each paid project gets a pledge for the period, due on the company's due day of the
    next month, with its channels as they are now. Approving the period again (a rare
    correction) updates the amounts of pledges nothing was paid on yet and cancels the
    unpaid pledges of projects it no longer pays.
    """
    now = now or utcnow()
    due_on = lifecycle.due_date(period, due_day(session, company_id))
    existing = _proposal_pledges(session, company_id, period)
    projects = {
        p.id: p for p in session.exec(select(Project).where(col(Project.id).in_(list(amounts))))
    }
    created, changes = 0, Counter[str]()
    for project_id, amount in sorted(amounts.items()):
        pledge = existing.get(project_id)
        if pledge is not None:
            changes[_approve_again(session, actor, pledge, amount, proposal_id, now)] += 1
            continue
        pledge = Pledge(
            company_id=company_id,
            project_id=project_id,
            period=period,
            amount_minor=amount,
            currency=currency,
            source=PledgeSource.proposal.value,
            proposal_id=proposal_id,
            due_on=due_on,
            channels=channels_snapshot(session, projects[project_id]),
            created_by_id=actor.user_id,
            created_at=now,
            updated_at=now,
        )
        add_pledge(session, actor, pledge, "pledge.created", proposal_id=proposal_id)
        created += 1
    dropped = [p for project_id, p in existing.items() if project_id not in amounts]
    cancelled = _cancel_unpaid(session, actor, dropped, period, now)
    return PledgeChange(created, changes["updated"], changes["unchanged"], cancelled)


def _proposal_pledges(session: Session, company_id: int, period: str) -> dict[int, Pledge]:
    """{project id: pledge} of the proposals approved for the period so far."""
    rows = session.exec(
        select(Pledge).where(
            Pledge.company_id == company_id,
            Pledge.period == period,
            Pledge.source == PledgeSource.proposal.value,
        )
    )
    return {p.project_id: p for p in rows}


def _approve_again(
    session: Session,
    actor: Actor,
    pledge: Pledge,
    amount: int,
    proposal_id: int | None,
    now: datetime,
) -> str:
    """A pledge the period already has takes the new amount while nothing was paid on it;
    "updated" or "unchanged"."""
    if pledge.amount_minor == amount and pledge.state != PledgeState.cancelled:
        return "unchanged"
    if pledge.state not in (PledgeState.pledged, PledgeState.cancelled) or pledge.paid_minor:
        return "unchanged"  # money already arrived against it: the pledge stands as made
    before = pledge.amount_minor
    pledge.amount_minor, pledge.proposal_id = amount, proposal_id
    pledge.state, pledge.cancel_reason, pledge.updated_at = PledgeState.pledged, None, now
    add_pledge(session, actor, pledge, "pledge.amount_changed", before=before, after=amount)
    return "updated"


def _cancel_unpaid(
    session: Session, actor: Actor, dropped: list[Pledge], period: str, now: datetime
) -> int:
    """Cancel the open, unpaid pledges of projects the approval no longer pays."""
    cancelled = 0
    for pledge in dropped:
        if pledge.state in OPEN and not pledge.paid_minor:
            reason = f"not paid by the approved proposal for {period}"
            transition(session, actor, pledge, PledgeState.cancelled, now, reason=reason)
            cancelled += 1
    return cancelled
