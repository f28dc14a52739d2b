"""The OSPO's adjustments to an open proposal; each one recomputes it at once."""

from __future__ import annotations

from datetime import datetime
from fractions import Fraction

from sqlmodel import Session, select

from service.allocation.errors import ProposalError, require_open
from service.allocation.generation import recompute
from service.allocation.models import (
    Adjustment,
    AdjustmentKind,
    Proposal,
    ProposalLine,
)
from service.allocation.queries import (
    adjustments_of,
    amount_of,
)
from service.audit.services import Actor, record
from service.core.clock import utcnow
from service.money import MoneyError, parse_amount
from service.numbers import InputError, as_fraction
from service.projects.models import Project

MAX_BOOST = Fraction(100)


def _adjustment_value(proposal: Proposal, kind: str, value: str | None) -> str:
    text = (value or "").strip()
    if kind == AdjustmentKind.exclude:
        return ""
    if kind == AdjustmentKind.boost:
        try:
            factor = as_fraction(text, "boost", "a multiplier such as 1.5")
        except InputError as exc:
            raise ProposalError(f"boost: {exc.message}", "value") from None
        if not 0 < factor <= MAX_BOOST:
            raise ProposalError(
                f"boost: expected a multiplier > 0 and at most {MAX_BOOST}, got {text}", "value"
            )
        return text
    try:
        amount = parse_amount(text, proposal.currency)
    except MoneyError as exc:
        raise ProposalError(f"{kind.replace('_', ' ')}: {exc}", "value") from None
    if kind == AdjustmentKind.pin_minimum and amount <= 0:
        raise ProposalError("pin minimum: expected an amount > 0", "value")
    return str(amount)


def _kind(kind: str) -> str:
    try:
        return AdjustmentKind(kind).value
    except ValueError:
        raise ProposalError(
            f"Unknown adjustment {kind!r}: use boost, exclude, override or pin_minimum.", "kind"
        ) from None


def _replace_previous(
    session: Session, actor: Actor, proposal: Proposal, project_id: int, kind: str, now: datetime
) -> None:
    """The project's adjustment of the same kind, if any, is removed: the new one replaces it."""
    for previous in adjustments_of(session, proposal.id):
        if previous.project_id == project_id and previous.kind == kind and not previous.removed_at:
            previous.removed_at = now
            previous.removed_by_id = actor.user_id
            session.add(previous)


def adjust(
    session: Session,
    actor: Actor,
    proposal: Proposal,
    project_id: int,
    kind: str,
    value: str | None = None,
    note: str | None = None,
    now: datetime | None = None,
) -> Adjustment:
    """Add (or replace) an OSPO adjustment and recompute the proposal at once."""
    require_open(proposal, "adjusted")
    kind = _kind(kind)
    line = session.exec(
        select(ProposalLine).where(
            ProposalLine.proposal_id == proposal.id, ProposalLine.project_id == project_id
        )
    ).first()
    if line is None:
        raise ProposalError("That project is not part of this proposal.", "project_id")
    note = (note or "").strip() or None
    if kind == AdjustmentKind.override and not note:
        raise ProposalError("Say why the amount is overridden (the note is kept).", "note")
    stored_value = _adjustment_value(proposal, kind, value)
    now = now or utcnow()
    _replace_previous(session, actor, proposal, project_id, kind, now)
    adjustment = Adjustment(
        proposal_id=proposal.id,
        project_id=project_id,
        kind=kind,
        value=stored_value,
        note=note[:500] if note else None,
        user_id=actor.user_id,
        created_at=now,
    )
    session.add(adjustment)
    session.flush()
    before = line.amount_minor
    recompute(session, proposal)
    proposal.last_edited_by_id = actor.user_id
    session.add(proposal)
    record(
        session,
        actor,
        "proposal.adjusted",
        company_id=proposal.company_id,
        obj=proposal,
        period=proposal.period,
        project=line.project_key,
        kind=kind,
        value=stored_value,
        note=adjustment.note,
        amount_before=before,
        amount_after=amount_of(session, proposal.id, project_id),
    )
    return adjustment


def remove_adjustment(
    session: Session,
    actor: Actor,
    proposal: Proposal,
    adjustment_id: int,
    now: datetime | None = None,
) -> Adjustment:
    require_open(proposal, "adjusted")
    adjustment = session.get(Adjustment, adjustment_id)
    if adjustment is None or adjustment.proposal_id != proposal.id or adjustment.removed_at:
        raise ProposalError("No such adjustment on this proposal.")
    adjustment.removed_at = now or utcnow()
    adjustment.removed_by_id = actor.user_id
    session.add(adjustment)
    session.flush()
    recompute(session, proposal)
    proposal.last_edited_by_id = actor.user_id
    session.add(proposal)
    project = session.get(Project, adjustment.project_id)
    record(
        session,
        actor,
        "proposal.adjustment_removed",
        company_id=proposal.company_id,
        obj=proposal,
        period=proposal.period,
        project=project.key if project else adjustment.project_id,
        kind=adjustment.kind,
    )
    return adjustment
