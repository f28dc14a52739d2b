"""The rules of a pledge's life, as pure functions (no Flask, no database).

A pledge is ``pledged`` until money arrives; a payment that leaves something owed makes
it ``partially_paid``, one that completes it makes it ``paid``. The daily job makes a
pledge past its due date and not fully paid ``overdue``; it stays overdue until it is
paid in full. An owner can cancel any pledge that is not paid, with a reason. Anything
else is refused with a `TransitionError` that says why.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

from service.pledges.models import PledgeState

PERIOD = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
PLATFORMS = {
    "github_sponsors": "GitHub Sponsors",
    "open_collective": "Open Collective",
    "thanks_dev": "thanks.dev",
    "liberapay": "Liberapay",
    "polar": "Polar",
    "funding_json": "funding.json plan",
    "custom": "custom URL",
    "bank": "bank transfer",
    "other": "other",
}


class TransitionError(ValueError):
    """A change the pledge's state does not allow; ``field`` names the input at fault."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def parse_period(text: str) -> tuple[int, int]:
    match = PERIOD.match((text or "").strip())
    if not match:
        raise TransitionError(f"{text!r} is not a month in the form YYYY-MM.", "period")
    return int(match[1]), int(match[2])


def period_start(period: str) -> date:
    year, month = parse_period(period)
    return date(year, month, 1)


def next_period(period: str) -> str:
    year, month = parse_period(period)
    return f"{year + month // 12}-{month % 12 + 1:02d}"


def period_of(day: date) -> str:
    return f"{day.year}-{day.month:02d}"


def due_date(period: str, due_day: int) -> date:
    """The due day of the month after the period (the month's last day when shorter)."""
    year, month = parse_period(next_period(period))
    return date(year, month, min(due_day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class PaymentCheck:
    state: PledgeState  # the pledge's state once the payment is recorded
    overpayment: bool  # the payment takes the pledge above its amount


def check_payment(
    *,
    state: PledgeState,
    amount_minor: int,
    paid_minor: int,
    currency: str,
    period: str,
    payment_minor: int,
    payment_currency: str,
    paid_on: date,
    confirm_overpayment: bool = False,
) -> PaymentCheck:
    """What a payment does to a pledge, or a TransitionError naming the bad input."""
    if state == PledgeState.cancelled:
        raise TransitionError("This pledge is cancelled: it takes no payments.")
    if payment_minor <= 0:
        raise TransitionError("The amount must be more than zero.", "amount")
    if payment_currency != currency:
        raise TransitionError(
            f"The payment is in {payment_currency} but the pledge is in {currency}: record it "
            f"in {currency}.",
            "currency",
        )
    if paid_on < period_start(period):
        raise TransitionError(
            f"The payment is dated {paid_on.isoformat()}, before the pledge's period "
            f"{period} began.",
            "paid_on",
        )
    total = paid_minor + payment_minor
    over = total > amount_minor
    if over and not confirm_overpayment:
        raise TransitionError(
            f"This payment takes the pledge to {total} minor units, above its amount "
            f"{amount_minor}: confirm the over-payment to record it.",
            "confirm_overpayment",
        )
    if total >= amount_minor:
        return PaymentCheck(PledgeState.paid, over)
    if state == PledgeState.overdue:
        return PaymentCheck(PledgeState.overdue, over)
    return PaymentCheck(PledgeState.partially_paid, over)


def check_cancel(state: PledgeState, reason: str) -> str:
    """The cleaned reason, or a TransitionError."""
    if state == PledgeState.cancelled:
        raise TransitionError("This pledge is already cancelled.")
    if state == PledgeState.paid:
        raise TransitionError("This pledge is paid: a paid pledge cannot be cancelled.")
    text = (reason or "").strip()
    if not text:
        raise TransitionError("Say why the pledge is cancelled (the reason is kept).", "reason")
    if len(text) > 500:
        raise TransitionError("The reason is longer than 500 characters.", "reason")
    return text


def is_overdue(state: PledgeState, due_on: date, today: date) -> bool:
    """Past its due date and not fully paid (cancelled pledges are never overdue)."""
    return state in (PledgeState.pledged, PledgeState.partially_paid) and today > due_on
