"""What the daily due check changes: pledges past their due date become overdue, and the
monthly manual pledges are repeated into the new month."""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Session, col, select

from service.audit.services import Actor
from service.core.clock import utcnow
from service.pledges import lifecycle
from service.pledges.models import Pledge, PledgeSource, PledgeState, Recurrence
from service.pledges.services import (
    OPEN,
    add_pledge,
    channels_snapshot,
    due_day,
    manual_pledge_for,
    transition,
)
from service.projects.models import Project


def repeat_monthly(
    session: Session, actor: Actor, company_id: int, period: str, now: datetime | None = None
) -> list[Pledge]:
    """Copy the company's monthly manual pledges into `period` (once each)."""
    originals = session.exec(
        select(Pledge).where(
            Pledge.company_id == company_id,
            Pledge.source == PledgeSource.manual.value,
            Pledge.recurrence == Recurrence.monthly.value,
            col(Pledge.repeats_id).is_(None),
            col(Pledge.state) != PledgeState.cancelled.value,
            col(Pledge.period) < period,
        )
    ).all()
    made = []
    for original in originals:
        if manual_pledge_for(session, company_id, original.project_id, period) is not None:
            continue
        pledge = Pledge(
            company_id=company_id,
            project_id=original.project_id,
            period=period,
            amount_minor=original.amount_minor,
            currency=original.currency,
            source=PledgeSource.manual.value,
            recurrence=Recurrence.monthly.value,
            repeats_id=original.id,
            note=original.note,
            due_on=lifecycle.due_date(period, due_day(session, company_id)),
            channels=channels_snapshot(session, session.get(Project, original.project_id)),
            created_at=now or utcnow(),
            updated_at=now or utcnow(),
        )
        add_pledge(session, actor, pledge, "pledge.created", repeats=original.id)
        made.append(pledge)
    return made


def mark_overdue(
    session: Session, actor: Actor, company_id: int, today: date, now: datetime | None = None
) -> list[Pledge]:
    """Pledges of the company past their due date and not fully paid become overdue."""
    candidates = session.exec(
        select(Pledge)
        .where(Pledge.company_id == company_id, col(Pledge.due_on) < today)
        .order_by(col(Pledge.id))
    ).all()
    found = [p for p in candidates if lifecycle.is_overdue(PledgeState(p.state), p.due_on, today)]
    for pledge in found:
        transition(session, actor, pledge, PledgeState.overdue, now or utcnow())
    return found


def companies_with_open_pledges(session: Session) -> list[int]:
    return list(
        session.exec(
            select(Pledge.company_id)
            .where(col(Pledge.state).in_(OPEN) | (Pledge.recurrence == Recurrence.monthly.value))
            .distinct()
            .order_by(col(Pledge.company_id))
        )
    )
