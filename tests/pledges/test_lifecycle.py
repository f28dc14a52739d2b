"""The pledge rules without a database: due dates, payments, cancelling, overdue."""

from __future__ import annotations

from datetime import date

import pytest

from service.pledges import lifecycle
from service.pledges.lifecycle import PaymentCheck, TransitionError
from service.pledges.models import PledgeState as S


def pay(state=S.pledged, paid=0, minor=5_000, currency="USD", on=date(2026, 12, 10), **kw):
    return lifecycle.check_payment(
        state=state,
        amount_minor=10_000,
        paid_minor=paid,
        currency="USD",
        period="2026-12",
        payment_minor=minor,
        payment_currency=currency,
        paid_on=on,
        **kw,
    )


def test_due_dates_fall_in_the_following_month():
    assert lifecycle.due_date("2026-12", 15) == date(2027, 1, 15)
    assert lifecycle.due_date("2027-01", 28) == date(2027, 2, 28)
    assert lifecycle.due_date("2027-01", 1) == date(2027, 2, 1)
    assert lifecycle.next_period("2026-11") == "2026-12"
    with pytest.raises(TransitionError, match="YYYY-MM"):
        lifecycle.due_date("2026-13", 15)


@pytest.mark.parametrize(
    ("state", "paid", "minor", "expected"),
    [
        (S.pledged, 0, 4_000, PaymentCheck(S.partially_paid, False)),
        (S.pledged, 0, 10_000, PaymentCheck(S.paid, False)),
        (S.partially_paid, 4_000, 6_000, PaymentCheck(S.paid, False)),
        (S.partially_paid, 4_000, 1_000, PaymentCheck(S.partially_paid, False)),
        (S.overdue, 0, 1_000, PaymentCheck(S.overdue, False)),
        (S.overdue, 1_000, 9_000, PaymentCheck(S.paid, False)),
    ],
)
def test_payments_move_the_state(state, paid, minor, expected):
    assert pay(state, paid, minor) == expected


def test_overpayment_needs_a_confirmation_and_is_marked():
    with pytest.raises(TransitionError, match="confirm the over-payment") as caught:
        pay(S.partially_paid, 6_000, 5_000)
    assert caught.value.field == "confirm_overpayment"
    assert pay(S.partially_paid, 6_000, 5_000, confirm_overpayment=True) == PaymentCheck(
        S.paid, True
    )
    # A paid pledge takes more only as an over-payment.
    assert pay(S.paid, 10_000, 1, confirm_overpayment=True) == PaymentCheck(S.paid, True)


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"minor": 0}, "amount", "more than zero"),
        ({"minor": -5}, "amount", "more than zero"),
        ({"currency": "EUR"}, "currency", "in EUR but the pledge is in USD"),
        ({"on": date(2026, 11, 30)}, "paid_on", "dated 2026-11-30, before the pledge's period"),
        ({"state": S.cancelled}, None, "cancelled: it takes no payments"),
    ],
)
def test_bad_payments_are_refused_naming_the_field(kwargs, field, message):
    with pytest.raises(TransitionError, match=message) as caught:
        pay(**kwargs)
    assert caught.value.field == field


def test_cancelling():
    for state in (S.pledged, S.partially_paid, S.overdue):
        assert lifecycle.check_cancel(state, "  budget cut  ") == "budget cut"
    with pytest.raises(TransitionError, match="paid pledge cannot be cancelled"):
        lifecycle.check_cancel(S.paid, "x")
    with pytest.raises(TransitionError, match="already cancelled"):
        lifecycle.check_cancel(S.cancelled, "x")
    with pytest.raises(TransitionError, match="Say why") as caught:
        lifecycle.check_cancel(S.pledged, " ")
    assert caught.value.field == "reason"


def test_overdue_is_past_due_and_not_fully_paid():
    due = date(2027, 1, 15)
    assert lifecycle.is_overdue(S.pledged, due, date(2027, 1, 16))
    assert lifecycle.is_overdue(S.partially_paid, due, date(2027, 1, 16))
    assert not lifecycle.is_overdue(S.pledged, due, date(2027, 1, 15))
    for state in (S.paid, S.cancelled, S.overdue):
        assert not lifecycle.is_overdue(state, due, date(2027, 2, 1))
