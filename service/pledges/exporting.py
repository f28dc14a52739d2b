"""Making a month's payment files: the company's pledges for the period go through the
pure exports (service.pledges.exports); the export is recorded (who, when, checksum,
what it left out) and the pledges it carried are marked exported, in the caller's
transaction.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from service.audit.services import Actor, record
from service.core.clock import utcnow
from service.pledges import exports
from service.pledges.lifecycle import parse_period
from service.pledges.models import Pledge, PledgeExport, PledgeState
from service.projects.models import Project


def export_lines(session: Session, company_id: int, period: str) -> list[exports.ExportLine]:
    """The period's pledges that still owe money to someone (not cancelled)."""
    rows = session.exec(
        select(Pledge, Project.key)
        .join(Project, col(Project.id) == Pledge.project_id)
        .where(
            Pledge.company_id == company_id,
            Pledge.period == period,
            Pledge.state != PledgeState.cancelled.value,
        )
        .order_by(col(Project.key), col(Pledge.id))
    ).all()
    return [
        exports.ExportLine(
            pledge_id=pledge.id,
            project=key,
            period=pledge.period,
            amount_minor=pledge.amount_minor,
            currency=pledge.currency,
            state=pledge.state,
            due_on=pledge.due_on.isoformat(),
            recurrence=pledge.recurrence,
            channels=pledge.channels,
        )
        for pledge, key in rows
    ]


def make_export(
    session: Session,
    actor: Actor,
    *,
    company_id: int,
    slug: str,
    period: str,
    kind: str,
    row_limit: int,
    now: datetime | None = None,
) -> tuple[exports.Export, PledgeExport]:
    """Build the files, record the export, mark its pledges exported."""
    parse_period(period)
    now = now or utcnow()
    lines = export_lines(session, company_id, period)
    made = _files(kind, lines, f"{slug}-{period}", row_limit)
    row = PledgeExport(
        company_id=company_id,
        period=period,
        kind=kind,
        checksum=made.checksum,
        files=[
            {"name": f.name, "sha256": f.sha256, "rows": f.rows, "content": f.content.decode()}
            for f in made.files
        ],
        left_out=[item.to_dict() for item in made.left_out],
        pledge_ids=made.pledge_ids,
        made_by_id=actor.user_id,
        made_by_label=actor.label,
        created_at=now,
    )
    session.add(row)
    session.flush()
    record(
        session,
        actor,
        "pledges.exported",
        company_id=company_id,
        obj=row,
        period=period,
        kind=kind,
        checksum=made.checksum,
        files=[{k: f[k] for k in ("name", "sha256", "rows")} for f in row.files],
        left_out=len(made.left_out),
    )
    _mark_exported(session, actor, row, made.pledge_ids, now)
    return made, row


def _files(kind: str, lines: list[exports.ExportLine], name: str, row_limit: int) -> exports.Export:
    """The payment files of one kind (``exports.KINDS``), named after ``name``."""
    if kind == "github-sponsors":
        return exports.github_sponsors(lines, row_limit=row_limit, name=f"{name}-github-sponsors")
    if kind == "open-collective":
        return exports.open_collective(lines, name=f"{name}-open-collective")
    if kind == "csv":
        return exports.generic_csv(lines, name=f"{name}-pledges")
    if kind == "json":
        return exports.generic_json(lines, name=f"{name}-pledges")
    raise ValueError(f"unknown export {kind!r}: one of {', '.join(exports.KINDS)}")


def _mark_exported(
    session: Session, actor: Actor, row: PledgeExport, pledge_ids: list[int], now: datetime
) -> None:
    """The export's pledges are exported now; the first export of each is recorded."""
    carried = session.exec(
        select(Pledge).where(
            Pledge.company_id == row.company_id, col(Pledge.id).in_(pledge_ids or [-1])
        )
    ).all()
    for pledge in carried:
        first = pledge.exported_at is None
        pledge.exported_at = now
        session.add(pledge)
        if first:
            record(
                session,
                actor,
                "pledge.exported",
                company_id=row.company_id,
                obj=pledge,
                export_id=row.id,
                kind=row.kind,
                to_state=pledge.state,
            )


def exports_of(session: Session, company_id: int, period: str | None = None) -> list[PledgeExport]:
    query = select(PledgeExport).where(PledgeExport.company_id == company_id)
    if period:
        query = query.where(PledgeExport.period == period)
    return list(session.exec(query.order_by(col(PledgeExport.id).desc())))


def export_of(session: Session, company_id: int, export_id: int) -> PledgeExport | None:
    """The company's export (None for another company's)."""
    found = session.get(PledgeExport, export_id)
    return found if found is not None and found.company_id == company_id else None
