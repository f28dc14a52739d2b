"""Importing receipts: an uploaded CSV file, its column mapping (remembered per company
and preset), and every row matched to the pledges it pays or listed with the reason.

A row is matched by the platform account it paid (a maintainer's payout channel or the
project's funding channel on that platform; for a bank file any channel or login), the
currency, and the month: the open pledges of the receipt's month or the month before
that pay that account, oldest first, each up to what is still owed to that account. A
row paying more than is owed is listed, not recorded (a GitHub Sponsors file's
whole-dollar rounding, under a dollar, is recorded up to what was owed and said so).
Matched rows keep their fingerprint, so importing the same file again records nothing
twice. The whole import is one transaction: the caller commits it or nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from service.audit.services import Actor, record
from service.core.clock import utcnow
from service.money import format_amount
from service.pledges import lifecycle, receipts, services
from service.pledges.exports import maintainer_parts
from service.pledges.lifecycle import TransitionError
from service.pledges.models import (
    Pledge,
    Receipt,
    ReceiptImport,
    ReceiptMapping,
)
from service.pledges.receipts import PRESETS, ReceiptError, ReceiptLine
from service.projects.models import Project

ROUNDING_SLACK = {"github_sponsors": 99}  # cents a whole-dollar file may pay above the share


def start_import(
    session: Session,
    actor: Actor,
    *,
    company_id: int,
    data: bytes,
    filename: str,
    preset: str,
    encoding: str | None = None,
) -> ReceiptImport:
    """Keep the upload (read once now, so a file that cannot be read is refused at once)."""
    if preset not in PRESETS:
        raise ReceiptError(f"Unknown preset {preset!r}: one of {', '.join(PRESETS)}.")
    table = receipts.read_table(data, encoding or None)
    if not table.rows:
        raise ReceiptError("The file has a header but no rows.")
    upload = ReceiptImport(
        company_id=company_id,
        preset=preset,
        filename=(filename or "receipts.csv")[:300],
        encoding=encoding or None,
        content=data,
        created_by_id=actor.user_id,
    )
    session.add(upload)
    session.flush()
    return upload


def import_of(session: Session, company_id: int, import_id: int) -> ReceiptImport | None:
    found = session.get(ReceiptImport, import_id)
    return found if found is not None and found.company_id == company_id else None


def proposed_mapping(session: Session, upload: ReceiptImport) -> tuple[receipts.Table, dict]:
    """The file's table and the mapping to propose: the company's last one for this
    preset when the file has its columns, else the preset's guess."""
    table = receipts.read_table(upload.content, upload.encoding)
    remembered = session.get(ReceiptMapping, (upload.company_id, upload.preset))
    if remembered and all(h in table.headers for h in remembered.mapping.values()):
        return table, dict(remembered.mapping)
    return table, receipts.guess_mapping(PRESETS[upload.preset], table.headers)


@dataclass(frozen=True)
class Share:
    pledge: Pledge
    project: str
    owed_minor: int  # what this account can still receive from the pledge


def confirm_import(
    session: Session,
    actor: Actor,
    upload: ReceiptImport,
    mapping: dict[str, str],
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """Match every row, record the payments, remember the mapping; the report per row."""
    now = now or utcnow()
    if upload.status != "pending":
        raise ReceiptError("This file was imported already; upload it again to re-import.")
    table = receipts.read_table(upload.content, upload.encoding)
    lines = receipts.receipts(table, upload.preset, mapping)
    preset = PRESETS[upload.preset]
    chosen = receipts.check_mapping(preset, table.headers, mapping)
    known = _imported_before(session, upload.company_id, lines)
    seen: dict[str, int] = {}
    report = []
    for line in lines:
        entry = _report_entry(line)
        if line.skip_reason:
            entry.update(status="skipped", reason=line.skip_reason)
        elif line.fingerprint in known:
            entry.update(status="already_imported", reason="imported before: nothing recorded")
        elif line.fingerprint in seen:
            entry.update(status="skipped", reason=f"the same as row {seen[line.fingerprint]}")
        else:
            _match(session, actor, upload, preset.platform, line, entry, now)
        seen.setdefault(line.fingerprint, line.row)
        report.append(entry)
    _finish(session, actor, upload, chosen, report, now)
    return report


def _imported_before(session: Session, company_id: int, lines: list[ReceiptLine]) -> set[str]:
    """Fingerprints of these lines that an earlier import recorded."""
    fingerprints = [line.fingerprint for line in lines] or [""]
    return set(
        session.exec(
            select(Receipt.fingerprint).where(
                Receipt.company_id == company_id, col(Receipt.fingerprint).in_(fingerprints)
            )
        ).all()
    )


def _report_entry(line: ReceiptLine) -> dict[str, Any]:
    """The report's row for a line, before it is matched."""
    return {
        "row": line.row,
        "paid_on": line.paid_on.isoformat(),
        "account": line.account,
        "amount": format_amount(line.amount_minor, line.currency),
        "currency": line.currency,
        "reference": line.reference,
        "pledges": [],
    }


def _finish(
    session: Session,
    actor: Actor,
    upload: ReceiptImport,
    chosen: dict[str, str],
    report: list[dict[str, Any]],
    now: datetime,
) -> None:
    """Remember the mapping for the next file of this kind, close the upload, record it."""
    found = session.get(ReceiptMapping, (upload.company_id, upload.preset))
    found = found or ReceiptMapping(company_id=upload.company_id, preset=upload.preset)
    found.mapping, found.updated_at = chosen, now
    session.add(found)
    upload.status, upload.report, upload.done_at = "done", report, now
    session.add(upload)
    counts = {s: sum(1 for e in report if e["status"] == s) for s in ("matched", "unmatched")}
    record(
        session,
        actor,
        "receipts.imported",
        company_id=upload.company_id,
        obj=upload,
        preset=upload.preset,
        filename=upload.filename,
        rows=len(report),
        **counts,
    )


def _match(
    session: Session,
    actor: Actor,
    upload: ReceiptImport,
    platform: str,
    line: ReceiptLine,
    entry: dict[str, Any],
    now: datetime,
) -> None:
    shares = _shares(session, upload.company_id, platform, line)
    owed = sum(s.owed_minor for s in shares)
    if not shares:
        entry.update(status="unmatched", reason=_why_unmatched(session, upload, platform, line))
        return
    slack = ROUNDING_SLACK.get(platform, 0)
    if line.amount_minor > owed + slack:
        entry.update(
            status="unmatched",
            reason=f"{entry['amount']} {line.currency} is more than the "
            f"{format_amount(owed, line.currency)} still owed to {line.account}",
        )
        return
    receipt = Receipt(
        company_id=upload.company_id,
        import_id=upload.id,
        row=line.row,
        fingerprint=line.fingerprint,
        platform=platform,
        account=line.account[:200],
        amount_minor=line.amount_minor,
        currency=line.currency,
        paid_on=line.paid_on,
    )
    session.add(receipt)
    session.flush()
    left = _pay(session, actor, upload, receipt, line, shares, entry, now)
    entry.update(status="matched", reason=None)
    if left:
        entry["reason"] = (
            f"{format_amount(left, line.currency)} {line.currency} above what was owed "
            "(the file's whole-dollar rounding), not recorded"
        )


def _pay(
    session: Session,
    actor: Actor,
    upload: ReceiptImport,
    receipt: Receipt,
    line: ReceiptLine,
    shares: list[Share],
    entry: dict[str, Any],
    now: datetime,
) -> int:
    """Record the line's money against its pledges in turn, each up to what it is owed,
    listing them in ``entry``; return what is left over."""
    left = line.amount_minor
    for share in shares:
        part = min(left, share.owed_minor)
        if part <= 0:
            break
        try:
            services.record_payment(
                session,
                actor,
                share.pledge,
                amount=format_amount(part, line.currency),
                currency=line.currency,
                paid_on=line.paid_on,
                platform=receipt.platform,
                reference=line.reference or f"{upload.filename} row {line.row}",
                receipt_id=receipt.id,
                now=now,
            )
        except TransitionError as exc:
            raise ReceiptError(f"Row {line.row}: {exc.message}") from None
        entry["pledges"].append(
            {
                "id": share.pledge.id,
                "project": share.project,
                "period": share.pledge.period,
                "amount": format_amount(part, line.currency),
            }
        )
        left -= part
    return left


def _periods(line: ReceiptLine) -> list[str]:
    this = lifecycle.period_of(line.paid_on)
    year, month = lifecycle.parse_period(this)
    before = f"{year - 1}-12" if month == 1 else f"{year}-{month - 1:02d}"
    return [before, this]


def _candidates(session: Session, company_id: int, line: ReceiptLine) -> list[tuple[Pledge, str]]:
    rows = session.exec(
        select(Pledge, Project.key)
        .join(Project, col(Project.id) == Pledge.project_id)
        .where(
            Pledge.company_id == company_id,
            col(Pledge.period).in_(_periods(line)),
            col(Pledge.state).in_(services.OPEN),
        )
        .order_by(col(Pledge.period), col(Pledge.id))
    ).all()
    return [(p, key) for p, key in rows]


def _share_for(pledge: Pledge, platform: str, account: str) -> int | None:
    """What of the pledge goes to `account` on `platform` (None: the pledge does not pay
    it). A bank file names payees, so any channel or login of the pledge counts."""
    account = account.lower()
    kinds = None if platform == "bank" else {platform}
    maintainers = pledge.channels.get("maintainers", [])
    for c in pledge.channels.get("project", []):
        if (kinds is None or c["kind"] in kinds) and c["handle"].lower() == account:
            return pledge.amount_minor
    if not maintainers:
        return None
    split = maintainer_parts(pledge.amount_minor, pledge.channels)
    for m in maintainers:
        names = {c["value"].lower() for c in m["channels"] if kinds is None or c["kind"] in kinds}
        if kinds is None:
            names.add(m["login"].lower())
        if account in names:
            return split[m["login"]]
    return None


def _shares(session: Session, company_id: int, platform: str, line: ReceiptLine) -> list[Share]:
    found = []
    for pledge, key in _candidates(session, company_id, line):
        if pledge.currency != line.currency:
            continue
        share = _share_for(pledge, platform, line.account)
        owed = min(share or 0, pledge.amount_minor - pledge.paid_minor)
        if owed > 0:
            found.append(Share(pledge, key, owed))
    return found


def _why_unmatched(
    session: Session, upload: ReceiptImport, platform: str, line: ReceiptLine
) -> str:
    months = " or ".join(_periods(line))
    paying = [
        p
        for p, _key in _candidates(session, upload.company_id, line)
        if _share_for(p, platform, line.account) is not None
    ]
    if any(p.currency != line.currency for p in paying):
        return f"the pledges that pay {line.account} are not in {line.currency}"
    if paying:
        return f"what is owed to {line.account} for {months} is paid already"
    return f"no open pledge of {months} pays {line.account} on {PRESETS[upload.preset].label}"


def imports_of(session: Session, company_id: int) -> list[ReceiptImport]:
    return list(
        session.exec(
            select(ReceiptImport)
            .where(ReceiptImport.company_id == company_id, ReceiptImport.status == "done")
            .order_by(col(ReceiptImport.id).desc())
        )
    )
