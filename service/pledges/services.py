"""Pledges: written by approvals, read by the risk coverage, checked daily.

Functions that change state take the session and an Actor, record their audit event and
leave the commit to the caller (an approval writes its pledges in its own transaction).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from service.audit.services import Actor, record
from service.core.clock import utcnow
from service.pledges.models import Pledge, PledgeStatus

PAYING = (PledgeStatus.active.value, PledgeStatus.ending.value)


@dataclass(frozen=True)
class PledgeChange:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    ended: int = 0


def apply_approval(
    session: Session,
    actor: Actor,
    *,
    company_id: int,
    proposal_id: int,
    period: str,
    currency: str,
    amounts: dict[int, int],
    now: datetime | None = None,
) -> PledgeChange:
    """Make the company's pledges follow an approved proposal: ``{project id: amount}``.

    One pledge per company and project: a paid project's pledge is created, or updated
    to the approved amount and period (and made active again); a paying pledge of a
    project the approval does not pay ends.
    """
    now = now or utcnow()
    existing = {
        p.project_id: p
        for p in session.exec(select(Pledge).where(Pledge.company_id == company_id)).all()
    }
    created = updated = unchanged = ended = 0
    for project_id, amount in sorted(amounts.items()):
        pledge = existing.get(project_id)
        if pledge is None:
            session.add(
                Pledge(
                    company_id=company_id,
                    project_id=project_id,
                    amount_minor=amount,
                    currency=currency,
                    status=PledgeStatus.active.value,
                    from_period=period,
                    proposal_id=proposal_id,
                    created_at=now,
                    updated_at=now,
                )
            )
            created += 1
            continue
        if (
            pledge.status == PledgeStatus.active.value
            and pledge.amount_minor == amount
            and pledge.currency == currency
        ):
            unchanged += 1
        else:
            updated += 1
        pledge.amount_minor = amount
        pledge.currency = currency
        pledge.status = PledgeStatus.active.value
        pledge.from_period = period
        pledge.proposal_id = proposal_id
        pledge.updated_at = now
        pledge.ended_at = None
        pledge.status_reason = None
        session.add(pledge)
    for project_id, pledge in existing.items():
        if project_id in amounts or pledge.status not in PAYING:
            continue
        pledge.status = PledgeStatus.ended.value
        pledge.ended_at = now
        pledge.updated_at = now
        pledge.status_reason = f"not paid by the approved proposal for {period}"
        session.add(pledge)
        ended += 1
    change = PledgeChange(created, updated, unchanged, ended)
    record(
        session,
        actor,
        "pledges.updated",
        company_id=company_id,
        proposal_id=proposal_id,
        period=period,
        created=created,
        updated=updated,
        unchanged=unchanged,
        ended=ended,
    )
    return change


def pledges_of(session: Session, company_id: int, *, paying_only: bool = False) -> list[Pledge]:
    query = select(Pledge).where(Pledge.company_id == company_id)
    if paying_only:
        query = query.where(col(Pledge.status).in_(PAYING))
    return list(session.exec(query.order_by(col(Pledge.project_id))).all())


def paying_amounts(session: Session, company_id: int) -> dict[int, int]:
    """{project id: monthly amount} of the company's pledges that are still paid."""
    rows = session.exec(
        select(Pledge.project_id, Pledge.amount_minor).where(
            Pledge.company_id == company_id, col(Pledge.status).in_(PAYING)
        )
    ).all()
    return dict(rows)


def pledge_amounts(session: Session, company_id: int) -> dict[int, tuple[int | None, int | None]]:
    """{project id: (pledged amount, proposed amount)} for every project with a paying
    pledge; the proposed amount is what the company's current proposal gives it (None
    when no proposal mentions it). The risk coverage compares the two."""
    from service.allocation.queries import current_amounts

    pledged = paying_amounts(session, company_id)
    if not pledged:
        return {}
    proposed = current_amounts(session, company_id)
    return {pid: (amount, proposed.get(pid)) for pid, amount in pledged.items()}


@dataclass(frozen=True)
class DueCheck:
    ending: list[int]  # project ids whose pledge was marked ending
    resumed: list[int]  # project ids whose pledge is active again


def check_due(
    session: Session,
    actor: Actor,
    company_id: int,
    inventory_project_ids: Iterable[int],
    now: datetime | None = None,
) -> DueCheck:
    """Mark pledges of projects that left the inventory as ending (and back to active
    when the project returned). Records one audit event when anything changed."""
    now = now or utcnow()
    current = set(inventory_project_ids)
    ending: list[int] = []
    resumed: list[int] = []
    for pledge in pledges_of(session, company_id, paying_only=True):
        gone = pledge.project_id not in current
        if gone and pledge.status == PledgeStatus.active.value:
            pledge.status = PledgeStatus.ending.value
            pledge.status_reason = (
                "the project is no longer in any product's latest SBOM: "
                "the next approved proposal ends this pledge"
            )
            ending.append(pledge.project_id)
        elif not gone and pledge.status == PledgeStatus.ending.value:
            pledge.status = PledgeStatus.active.value
            pledge.status_reason = None
            resumed.append(pledge.project_id)
        else:
            continue
        pledge.updated_at = now
        session.add(pledge)
    if ending or resumed:
        record(
            session,
            actor,
            "pledges.due_checked",
            company_id=company_id,
            ending=ending,
            resumed=resumed,
        )
    return DueCheck(ending, resumed)
