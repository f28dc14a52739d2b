"""A month's reconciliation: planned (the pledges approved or made for it) against
exported (in a payment file) and paid (payments recorded), per project and per platform,
with each difference explained; the maintainers' projects and the registry stewards of
the infrastructure share are totalled apart."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlmodel import Session, col, select

from service.money import format_amount
from service.pledges.exporting import exports_of
from service.pledges.importing import imports_of
from service.pledges.lifecycle import next_period, period_of
from service.pledges.models import Payment, Pledge, PledgeState
from service.projects.models import Project, is_infrastructure


@dataclass
class ProjectLine:
    project: str
    pledge_ids: list[int]
    planned: int = 0
    exported: int = 0
    paid: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def difference(self) -> int:
        return self.planned - self.paid

    @property
    def infrastructure(self) -> bool:
        return is_infrastructure(self.project)


@dataclass(frozen=True)
class Totals:
    planned: int
    exported: int
    paid: int


@dataclass
class Reconciliation:
    period: str
    currency: str
    projects: list[ProjectLine]
    paid_by_platform: dict[str, int]
    exported_by_kind: dict[str, int]
    unmatched: list[dict]  # receipt rows of the month (or the next) that paid nothing

    @property
    def planned(self) -> int:
        return sum(p.planned for p in self.projects)

    @property
    def exported(self) -> int:
        return sum(p.exported for p in self.projects)

    @property
    def paid(self) -> int:
        return sum(p.paid for p in self.projects)

    def totals(self, *, infrastructure: bool) -> Totals:
        """The maintainers' projects (False) or the registry stewards (True) alone."""
        lines = [p for p in self.projects if p.infrastructure == infrastructure]
        return Totals(
            sum(p.planned for p in lines),
            sum(p.exported for p in lines),
            sum(p.paid for p in lines),
        )


def _count_pledge(line: ProjectLine, pledge: Pledge, *, exported: bool) -> None:
    """Add a pledge to its project's line, with notes on what is not as planned."""
    line.pledge_ids.append(pledge.id)
    if pledge.state == PledgeState.cancelled:
        line.notes.append(f"cancelled: {pledge.cancel_reason}")
        return
    line.planned += pledge.amount_minor
    line.paid += pledge.paid_minor
    if exported:
        line.exported += pledge.amount_minor
    elif pledge.paid_minor < pledge.amount_minor:
        line.notes.append("not exported")
    if pledge.paid_minor > pledge.amount_minor:
        over = format_amount(pledge.paid_minor - pledge.amount_minor, pledge.currency)
        line.notes.append(f"overpaid by {over} {pledge.currency}")
    elif 0 < pledge.paid_minor < pledge.amount_minor:
        line.notes.append("partly paid")
    if pledge.state == PledgeState.overdue:
        line.notes.append(f"overdue since {pledge.due_on.isoformat()}")


def reconcile(session: Session, company_id: int, period: str, currency: str) -> Reconciliation:
    rows = session.exec(
        select(Pledge, Project.key)
        .join(Project, col(Project.id) == Pledge.project_id)
        .where(Pledge.company_id == company_id, Pledge.period == period)
        .order_by(col(Project.key), col(Pledge.id))
    ).all()
    exports = exports_of(session, company_id, period)
    in_export: dict[int, set[str]] = {}
    for made in exports:
        for pledge_id in made.pledge_ids:
            in_export.setdefault(pledge_id, set()).add(made.kind)
    left_out = [(made.kind, item) for made in exports for item in made.left_out]
    lines: dict[str, ProjectLine] = {}
    for pledge, key in rows:
        line = lines.setdefault(key, ProjectLine(key, []))
        _count_pledge(line, pledge, exported=bool(in_export.get(pledge.id)))
    for kind, item in left_out:
        line = lines.get(item["project"].split(", ")[0])
        if line is not None:
            who = f" ({item['who']})" if item.get("who") else ""
            note = f"left out of {kind}{who}: {item['reason']}"
            if note not in line.notes:
                line.notes.append(note)
    pledge_ids = [p.id for p, _ in rows]
    paid_by_platform: dict[str, int] = {}
    for platform, amount in session.exec(
        select(Payment.platform, Payment.amount_minor).where(
            Payment.company_id == company_id, col(Payment.pledge_id).in_(pledge_ids or [-1])
        )
    ).all():
        paid_by_platform[platform] = paid_by_platform.get(platform, 0) + amount
    amounts = {p.id: p.amount_minor for p, _ in rows if p.state != PledgeState.cancelled}
    exported_by_kind: dict[str, int] = {}
    for made in exports:
        total = sum(amounts.get(i, 0) for i in made.pledge_ids)
        exported_by_kind[made.kind] = max(exported_by_kind.get(made.kind, 0), total)
    months = {period, next_period(period)}
    unmatched = [
        {**entry, "file": upload.filename, "import_id": upload.id}
        for upload in imports_of(session, company_id)
        for entry in upload.report
        if entry["status"] == "unmatched" and period_of_iso(entry["paid_on"]) in months
    ]
    return Reconciliation(
        period, currency, list(lines.values()), paid_by_platform, exported_by_kind, unmatched
    )


def period_of_iso(day: str) -> str:
    return period_of(date.fromisoformat(day))
