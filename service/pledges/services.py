"""Pledges and payments: written by approvals and by people, read by pages, the API and
the risk coverage, checked daily.

Functions that change state take the session and an Actor, record one audit event per
pledge they change (object ``Pledge``, so a pledge's history is its events) and leave
the commit to the caller: an approval writes its pledges in its own transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from service.accounts.models import User
from service.audit.models import Event
from service.audit.services import Actor, record
from service.companies.models import Company
from service.core.clock import utcnow
from service.money import MoneyError, normalize_currency, parse_amount
from service.pledges import lifecycle
from service.pledges.lifecycle import PLATFORMS, TransitionError
from service.pledges.models import (
    Payment,
    Pledge,
    PledgeSettings,
    PledgeSource,
    PledgeState,
    Recurrence,
)
from service.pledges.pledge_report import PaidItem
from service.projects.claims import active_claims, current_split
from service.projects.models import Project, ProjectClaim, is_infrastructure
from service.projects.payouts import payout_channels
from service.projects.services import funding_channels

OPEN = (PledgeState.pledged.value, PledgeState.partially_paid.value, PledgeState.overdue.value)


# Settings --------------------------------------------------------------------------------------


def due_day(session: Session, company_id: int) -> int:
    return settings_of(session, company_id).due_day


def settings_of(session: Session, company_id: int) -> PledgeSettings:
    return session.get(PledgeSettings, company_id) or PledgeSettings(company_id=company_id)


def save_settings(
    session: Session,
    actor: Actor,
    company_id: int,
    *,
    due_day: str | int,
    anonymous: bool,
    public: bool = False,
) -> PledgeSettings:
    """The company's pledge policy: the due day (1 to 28), whether maintainers see its
    name, and whether its pledges and payments are published."""
    try:
        day = int(str(due_day).strip())
    except ValueError:
        raise TransitionError(f"{due_day!r} is not a day of the month.", "due_day") from None
    if not 1 <= day <= 28:
        raise TransitionError("The due day must be between 1 and 28.", "due_day")
    found = settings_of(session, company_id)
    found.due_day, found.anonymous, found.public = day, anonymous, public
    found.updated_at = utcnow()
    session.add(found)
    record(
        session,
        actor,
        "pledges.settings_changed",
        company_id=company_id,
        due_day=day,
        anonymous=anonymous,
        public=public,
    )
    return found


# Making pledges --------------------------------------------------------------------------------


def channels_snapshot(session: Session, project: Project) -> dict[str, Any]:
    """The project's claimed maintainers with their agreed shares and payout channels,
    and the channels its metadata names: what a payment could use right now."""
    shares = current_split(session, project).shares
    maintainers = [
        {
            "user_id": user.id,
            "login": user.login,
            "share_bp": shares.get(user.id, 0),
            "channels": [
                {
                    "kind": c.kind,
                    "value": c.value,
                    "url": c.url,
                    "preferred": c.preferred,
                    "minimum_minor": c.minimum_minor,
                }
                for c in payout_channels(session, user.id)
            ],
        }
        for _claim, user in active_claims(session, project)
    ]
    found = [
        {"kind": c.kind, "handle": c.handle, "url": c.url, "source": c.source}
        for c in funding_channels(session, project)
    ]
    return {"maintainers": maintainers, "project": found}


def platforms_of(channels: dict[str, Any]) -> list[str]:
    """The payout platforms a pledge's channels reach (maintainers' first)."""
    kinds = [c["kind"] for m in channels.get("maintainers", []) for c in m["channels"]]
    kinds += [c["kind"] for c in channels.get("project", [])]
    return list(dict.fromkeys(kinds))


def create_manual(
    session: Session,
    actor: Actor,
    *,
    company_id: int,
    currency: str,
    project_key: str,
    period: str,
    amount: str,
    recurrence: str = Recurrence.once.value,
    note: str = "",
) -> Pledge:
    """A pledge made by hand, outside a proposal: one-off, or repeated every month."""
    key = (project_key or "").strip().removeprefix("https://").rstrip("/").lower()
    project = session.exec(select(Project).where(func.lower(Project.key) == key)).first()
    if project is None:
        raise TransitionError(
            f"No project {project_key!r} is known: give its repository as github.com/owner/name.",
            "project",
        )
    lifecycle.parse_period(period)
    try:
        amount_minor = parse_amount(amount, currency)
    except MoneyError as exc:
        raise TransitionError(f"Amount: {exc}.", "amount") from None
    if amount_minor <= 0:
        raise TransitionError("The amount must be more than zero.", "amount")
    if recurrence not in {r.value for r in Recurrence}:
        raise TransitionError("Choose one-off or monthly.", "recurrence")
    if manual_pledge_for(session, company_id, project.id, period) is not None:
        raise TransitionError(
            f"{project.key} already has a manual pledge for {period}: change or cancel it instead.",
            "project",
        )
    pledge = Pledge(
        company_id=company_id,
        project_id=project.id,
        period=period,
        amount_minor=amount_minor,
        currency=currency,
        source=PledgeSource.manual.value,
        recurrence=recurrence,
        note=(note or "").strip()[:1000] or None,
        due_on=lifecycle.due_date(period, due_day(session, company_id)),
        channels=channels_snapshot(session, project),
        created_by_id=actor.user_id,
    )
    add_pledge(session, actor, pledge, "pledge.created", recurrence=recurrence, note=pledge.note)
    return pledge


def manual_pledge_for(
    session: Session, company_id: int, project_id: int, period: str
) -> Pledge | None:
    return session.exec(
        select(Pledge).where(
            Pledge.company_id == company_id,
            Pledge.project_id == project_id,
            Pledge.period == period,
            Pledge.source == PledgeSource.manual.value,
        )
    ).first()


# Payments and state changes --------------------------------------------------------------------


def record_payment(
    session: Session,
    actor: Actor,
    pledge: Pledge,
    *,
    amount: str,
    currency: str,
    paid_on: str | date,
    platform: str,
    reference: str = "",
    confirm_overpayment: bool = False,
    receipt_id: int | None = None,
    now: datetime | None = None,
) -> Payment:
    """Record money received against a pledge and move its state; TransitionError names
    the field at fault (nothing is stored then)."""
    now = now or utcnow()
    code, amount_minor, day = _read_payment(amount, currency, paid_on, platform, now)
    check = lifecycle.check_payment(
        state=PledgeState(pledge.state),
        amount_minor=pledge.amount_minor,
        paid_minor=pledge.paid_minor,
        currency=pledge.currency,
        period=pledge.period,
        payment_minor=amount_minor,
        payment_currency=code,
        paid_on=day,
        confirm_overpayment=confirm_overpayment,
    )
    payment = Payment(
        company_id=pledge.company_id,
        pledge_id=pledge.id,
        amount_minor=amount_minor,
        currency=code,
        paid_on=day,
        platform=platform,
        reference=(reference or "").strip()[:200] or None,
        overpayment=check.overpayment,
        receipt_id=receipt_id,
        recorded_by_id=actor.user_id,
        created_at=now,
    )
    session.add(payment)
    session.flush()
    _count_payment(session, actor, pledge, payment, check.state, now)
    return payment


def _read_payment(
    amount: str, currency: str, paid_on: str | date, platform: str, now: datetime
) -> tuple[str, int, date]:
    """(currency code, amount in minor units, day) of a payment as a person entered it."""
    try:
        code = normalize_currency(currency)
    except MoneyError as exc:
        raise TransitionError(f"Currency: {exc}.", "currency") from None
    try:
        amount_minor = parse_amount(amount, code)
    except MoneyError as exc:
        if str(amount).strip().startswith("-"):
            raise TransitionError("The amount must be more than zero.", "amount") from None
        raise TransitionError(f"Amount: {exc}.", "amount") from None
    day = _parse_date(paid_on)
    if platform not in PLATFORMS:
        raise TransitionError(
            f"Unknown platform {platform!r}: one of {', '.join(PLATFORMS)}.", "platform"
        )
    if day > now.date():
        raise TransitionError(f"The payment date {day.isoformat()} is in the future.", "paid_on")
    return code, amount_minor, day


def _count_payment(
    session: Session,
    actor: Actor,
    pledge: Pledge,
    payment: Payment,
    state: PledgeState,
    now: datetime,
) -> None:
    """The stored payment counts against its pledge, which moves to ``state``."""
    before = pledge.state
    pledge.paid_minor += payment.amount_minor
    pledge.state = state.value
    pledge.updated_at = now
    session.add(pledge)
    record(
        session,
        actor,
        "pledge.payment_recorded",
        company_id=pledge.company_id,
        obj=pledge,
        payment_id=payment.id,
        amount_minor=payment.amount_minor,
        currency=payment.currency,
        paid_on=payment.paid_on.isoformat(),
        platform=payment.platform,
        reference=payment.reference,
        overpayment=payment.overpayment,
        from_state=before,
        to_state=pledge.state,
    )


def _parse_date(value: str | date) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat((value or "").strip())
    except ValueError:
        raise TransitionError(
            f"{value!r} is not a date in the form YYYY-MM-DD.", "paid_on"
        ) from None


def cancel(
    session: Session, actor: Actor, pledge: Pledge, reason: str, now: datetime | None = None
) -> Pledge:
    text = lifecycle.check_cancel(PledgeState(pledge.state), reason)
    transition(session, actor, pledge, PledgeState.cancelled, now or utcnow(), reason=text)
    return pledge


def transition(
    session: Session,
    actor: Actor,
    pledge: Pledge,
    to: PledgeState,
    now: datetime,
    reason: str | None = None,
) -> None:
    before = pledge.state
    pledge.state = to.value
    pledge.updated_at = now
    if to == PledgeState.cancelled:
        pledge.cancel_reason = reason
    session.add(pledge)
    record(
        session,
        actor,
        f"pledge.{to.value}",
        company_id=pledge.company_id,
        obj=pledge,
        from_state=before,
        to_state=to.value,
        reason=reason,
    )


def add_pledge(session: Session, actor: Actor, pledge: Pledge, action: str, **details: Any) -> None:
    session.add(pledge)
    session.flush()
    record(
        session,
        actor,
        action,
        company_id=pledge.company_id,
        obj=pledge,
        period=pledge.period,
        project_id=pledge.project_id,
        amount_minor=pledge.amount_minor,
        currency=pledge.currency,
        to_state=pledge.state,
        **details,
    )


# Reading ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PledgeFilters:
    period: str | None = None
    state: str | None = None
    project: str | None = None  # part of the project key
    platform: str | None = None

    def to_dict(self) -> dict[str, str]:
        return {k: v for k, v in vars(self).items() if v}


@dataclass
class PledgeRow:
    pledge: Pledge
    project_key: str

    @property
    def platforms(self) -> list[str]:
        return platforms_of(self.pledge.channels)

    @property
    def owed_minor(self) -> int:
        if self.pledge.state == PledgeState.cancelled:
            return 0
        return max(self.pledge.amount_minor - self.pledge.paid_minor, 0)


@dataclass
class PledgeList:
    rows: list[PledgeRow]
    # {currency: {"pledged": n, "paid": n, "owed": n}} over the rows not cancelled
    totals: dict[str, dict[str, int]] = field(default_factory=dict)
    periods: list[str] = field(default_factory=list)


def list_pledges(session: Session, company_id: int, filters: PledgeFilters) -> PledgeList:
    query = (
        select(Pledge, Project.key)
        .join(Project, col(Project.id) == Pledge.project_id)
        .where(Pledge.company_id == company_id)
    )
    if filters.period:
        query = query.where(Pledge.period == filters.period)
    if filters.state:
        query = query.where(Pledge.state == filters.state)
    if filters.project:
        query = query.where(col(Project.key).icontains(filters.project, autoescape=True))
    rows = [
        PledgeRow(pledge, key)
        for pledge, key in session.exec(
            query.order_by(col(Pledge.period).desc(), col(Project.key), col(Pledge.id))
        )
    ]
    if filters.platform:
        rows = [row for row in rows if filters.platform in row.platforms]
    totals: dict[str, dict[str, int]] = {}
    for row in rows:
        if row.pledge.state == PledgeState.cancelled:
            continue
        sums = totals.setdefault(row.pledge.currency, {"pledged": 0, "paid": 0, "owed": 0})
        sums["pledged"] += row.pledge.amount_minor
        sums["paid"] += row.pledge.paid_minor
        sums["owed"] += row.owed_minor
    periods = session.exec(
        select(Pledge.period)
        .where(Pledge.company_id == company_id)
        .distinct()
        .order_by(col(Pledge.period).desc())
    ).all()
    return PledgeList(rows, totals, list(periods))


def pledge_of(session: Session, company_id: int, pledge_id: int) -> PledgeRow | None:
    """The company's pledge (None for another company's: tenants never see each other's)."""
    found = session.exec(
        select(Pledge, Project.key)
        .join(Project, col(Project.id) == Pledge.project_id)
        .where(Pledge.id == pledge_id, Pledge.company_id == company_id)
    ).first()
    return PledgeRow(*found) if found else None


def payments_of(session: Session, pledge: Pledge) -> list[Payment]:
    return list(
        session.exec(
            select(Payment)
            .where(Payment.pledge_id == pledge.id, Payment.company_id == pledge.company_id)
            .order_by(col(Payment.paid_on), col(Payment.id))
        )
    )


def history(session: Session, pledge: Pledge) -> list[Event]:
    """The pledge's audit events, oldest first."""
    return list(
        session.exec(
            select(Event)
            .where(
                Event.company_id == pledge.company_id,
                Event.object_type == "Pledge",
                Event.object_id == str(pledge.id),
            )
            .order_by(col(Event.id))
        )
    )


def pledges_of(session: Session, company_id: int, period: str | None = None) -> list[Pledge]:
    query = select(Pledge).where(Pledge.company_id == company_id)
    if period:
        query = query.where(Pledge.period == period)
    return list(session.exec(query.order_by(col(Pledge.period), col(Pledge.project_id))))


def paying_amounts(session: Session, company_id: int) -> dict[int, int]:
    """{project id: amount} of the company's pledges for its latest pledged month, not
    cancelled: what it currently pays each project every month."""
    latest = session.exec(
        select(func.max(Pledge.period)).where(
            Pledge.company_id == company_id, Pledge.state != PledgeState.cancelled.value
        )
    ).first()
    if latest is None:
        return {}
    rows = session.exec(
        select(Pledge.project_id, func.sum(Pledge.amount_minor))
        .where(
            Pledge.company_id == company_id,
            Pledge.period == latest,
            Pledge.state != PledgeState.cancelled.value,
        )
        .group_by(col(Pledge.project_id))
    ).all()
    return {pid: int(amount) for pid, amount in rows}


def logins(session: Session, user_ids: list[int | None]) -> dict[int, str]:
    """{user id: GitHub login} of the people named in a pledge's history."""
    ids = sorted({uid for uid in user_ids if uid is not None})
    if not ids:
        return {}
    return dict(session.exec(select(User.id, User.login).where(col(User.id).in_(ids))).all())


def paid_items(session: Session, company_id: int, year: int) -> list[PaidItem]:
    """The company's payments made in `year`, each with the project it paid."""
    rows = session.exec(
        select(Payment, Project.key)
        .join(Pledge, col(Pledge.id) == Payment.pledge_id)
        .join(Project, col(Project.id) == Pledge.project_id)
        .where(
            Payment.company_id == company_id,
            col(Payment.paid_on) >= date(year, 1, 1),
            col(Payment.paid_on) <= date(year, 12, 31),
        )
        .order_by(col(Payment.paid_on), col(Payment.id))
    ).all()
    return [
        PaidItem(key, p.amount_minor, p.currency, p.paid_on, is_infrastructure(key))
        for p, key in rows
    ]


@dataclass(frozen=True)
class IncomingPledge:
    pledge: Pledge
    project: str
    company: str  # the company's name, or "anonymous company" when it chose so
    share_bp: int | None  # the maintainer's agreed share when pledged; None: not yet claimed

    @property
    def mine_minor(self) -> int:
        if self.share_bp is None:
            return self.pledge.amount_minor
        return self.pledge.amount_minor * self.share_bp // 10_000


def incoming(session: Session, user_id: int) -> list[IncomingPledge]:
    """The pledges to every project the person claims or claimed, newest month first."""
    project_ids = session.exec(
        select(ProjectClaim.project_id).where(ProjectClaim.user_id == user_id).distinct()
    ).all()
    if not project_ids:
        return []
    rows = session.exec(
        select(Pledge, Project.key, Company.name, PledgeSettings.anonymous)
        .join(Project, col(Project.id) == Pledge.project_id)
        .join(Company, col(Company.id) == Pledge.company_id)
        .outerjoin(PledgeSettings, col(PledgeSettings.company_id) == Pledge.company_id)
        .where(
            col(Pledge.project_id).in_(list(project_ids)),
            Pledge.state != PledgeState.cancelled.value,
        )
        .order_by(col(Pledge.period).desc(), col(Project.key), col(Pledge.id))
    ).all()
    found = []
    for pledge, key, name, anonymous in rows:
        mine = next(
            (m for m in pledge.channels.get("maintainers", []) if m["user_id"] == user_id), None
        )
        found.append(
            IncomingPledge(
                pledge,
                key,
                "anonymous company" if anonymous else name,
                mine["share_bp"] if mine else None,
            )
        )
    return found
