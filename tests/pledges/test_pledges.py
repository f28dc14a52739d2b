"""Pledges in the database: from approvals and by hand, payments, cancelling, the daily
job (repeats and overdue notices), every change in the audit trail."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import select

from service.allocation.generation import generate_proposal
from service.allocation.review import approve
from service.audit.services import Actor
from service.notifications.models import Notification
from service.pledges import approval, jobs, services
from service.pledges.forms import PledgeFilterForm
from service.pledges.lifecycle import TransitionError
from service.pledges.models import Payment, Pledge
from tests.allocation.data import acme
from tests.factories import make_payout_channel

NOW = datetime(2026, 12, 1, 5, tzinfo=UTC)
ACTOR = Actor.system("test")


def apply(session, company, period, amounts):
    change = approval.apply_approval(
        session,
        ACTOR,
        company_id=company.id,
        proposal_id=None,
        period=period,
        currency="USD",
        amounts=amounts,
        now=NOW,
    )
    session.commit()
    return change


def rows(session, company):
    session.expire_all()
    return {
        (p.project_id, p.period): (p.amount_minor, p.state)
        for p in services.pledges_of(session, company.id)
    }


def actions(session, pledge):
    return [e.action for e in services.history(session, pledge)]


def test_an_approval_makes_one_pledge_per_project_for_its_period(session, clock):
    found = acme(session)
    left, framework = found.projects["left"].id, found.projects["framework"].id
    make_payout_channel(
        session,
        found.maintainer,
        value="fw-dev",
        url="https://github.com/sponsors/fw-dev",
        preferred=True,
    )
    change = apply(session, found.company, "2026-12", {left: 500, framework: 300})
    assert (change.created, change.updated, change.cancelled) == (2, 0, 0)
    apply(session, found.company, "2027-01", {left: 700})
    assert rows(session, found.company) == {
        (left, "2026-12"): (500, "pledged"),
        (framework, "2026-12"): (300, "pledged"),
        (left, "2027-01"): (700, "pledged"),
    }
    pledge = services.pledges_of(session, found.company.id, "2026-12")[1]
    assert pledge.project_id == framework
    assert pledge.due_on == date(2027, 1, 15)
    # The maintainers' channels as they were at approval time.
    assert pledge.channels == {
        "maintainers": [
            {
                "user_id": found.maintainer.id,
                "login": found.maintainer.login,
                "share_bp": 10_000,
                "channels": [
                    {
                        "kind": "github_sponsors",
                        "value": "fw-dev",
                        "url": "https://github.com/sponsors/fw-dev",
                        "preferred": True,
                        "minimum_minor": None,
                    }
                ],
            }
        ],
        "project": [],
    }
    assert actions(session, pledge) == ["pledge.created"]
    # Only the latest month counts as what the company currently pays.
    assert services.paying_amounts(session, found.company.id) == {left: 700}


def test_approving_a_period_again_updates_unpaid_pledges_and_cancels_dropped_ones(session, clock):
    found = acme(session)
    left, framework = found.projects["left"].id, found.projects["framework"].id
    apply(session, found.company, "2026-12", {left: 500, framework: 300})
    change = apply(session, found.company, "2026-12", {left: 600})
    assert (change.updated, change.cancelled) == (1, 1)
    assert rows(session, found.company) == {
        (left, "2026-12"): (600, "pledged"),
        (framework, "2026-12"): (300, "cancelled"),
    }


def test_the_due_day_is_the_companys_policy(session, clock):
    found = acme(session)
    with pytest.raises(TransitionError, match="between 1 and 28"):
        services.save_settings(session, ACTOR, found.company.id, due_day="31", anonymous=False)
    services.save_settings(session, ACTOR, found.company.id, due_day="5", anonymous=False)
    apply(session, found.company, "2026-12", {found.projects["left"].id: 500})
    assert services.pledges_of(session, found.company.id)[0].due_on == date(2027, 1, 5)


def pledged(session, found, amount=10_000):
    apply(session, found.company, "2026-12", {found.projects["left"].id: amount})
    return services.pledges_of(session, found.company.id)[0]


def pay(session, pledge, amount, on="2026-12-20", **kw):
    payment = services.record_payment(
        session,
        ACTOR,
        pledge,
        amount=amount,
        currency=kw.pop("currency", "USD"),
        paid_on=on,
        platform=kw.pop("platform", "github_sponsors"),
        reference="ref",
        **kw,
    )
    session.commit()
    return payment


def test_partial_payments_then_paid_then_only_a_confirmed_overpayment(session, clock):
    clock.at = datetime(2027, 1, 10, tzinfo=UTC)
    found = acme(session)
    pledge = pledged(session, found)
    pay(session, pledge, "40.00")
    assert (pledge.state, pledge.paid_minor) == ("partially_paid", 4_000)
    pay(session, pledge, "60.00")
    assert (pledge.state, pledge.paid_minor) == ("paid", 10_000)
    with pytest.raises(TransitionError, match="confirm the over-payment"):
        pay(session, pledge, "5.00")
    session.rollback()
    extra = pay(session, pledge, "5.00", confirm_overpayment=True)
    assert extra.overpayment and pledge.paid_minor == 10_500
    assert [p.amount_minor for p in services.payments_of(session, pledge)] == [4_000, 6_000, 500]
    assert actions(session, pledge) == ["pledge.created"] + ["pledge.payment_recorded"] * 3
    last = services.history(session, pledge)[-1].details
    assert (last["from_state"], last["to_state"], last["overpayment"]) == ("paid", "paid", True)


@pytest.mark.parametrize(
    ("amount", "currency", "on", "platform", "field"),
    [
        ("0", "USD", "2026-12-20", "github_sponsors", "amount"),
        ("-3.00", "USD", "2026-12-20", "github_sponsors", "amount"),
        ("1.001", "USD", "2026-12-20", "github_sponsors", "amount"),
        ("3.00", "EUR", "2026-12-20", "github_sponsors", "currency"),
        ("3.00", "XXX", "2026-12-20", "github_sponsors", "currency"),
        ("3.00", "USD", "2026-11-30", "github_sponsors", "paid_on"),
        ("3.00", "USD", "2026-12-32", "github_sponsors", "paid_on"),
        ("3.00", "USD", "2026-12-20", "paypal", "platform"),
    ],
)
def test_bad_payments_store_nothing(session, clock, amount, currency, on, platform, field):
    clock.at = datetime(2027, 1, 10, tzinfo=UTC)
    found = acme(session)
    pledge = pledged(session, found)
    with pytest.raises(TransitionError) as caught:
        pay(session, pledge, amount, on=on, currency=currency, platform=platform)
    assert caught.value.field == field
    session.rollback()
    assert session.exec(select(Payment)).all() == []
    assert (pledge.state, pledge.paid_minor) == ("pledged", 0)


def test_a_payment_dated_in_the_future_is_refused(session, clock):
    found = acme(session)
    pledge = pledged(session, found)
    with pytest.raises(TransitionError, match="in the future"):
        pay(session, pledge, "1.00", on="2026-12-02")


def test_cancelling_keeps_the_reason_and_refuses_paid_pledges(session, clock):
    clock.at = datetime(2027, 1, 10, tzinfo=UTC)
    found = acme(session)
    pledge = pledged(session, found)
    services.cancel(session, Actor(user_id=found.owner.id), pledge, "project archived")
    session.commit()
    assert (pledge.state, pledge.cancel_reason) == ("cancelled", "project archived")
    with pytest.raises(TransitionError, match="cancelled: it takes no payments"):
        pay(session, pledge, "1.00")
    event = services.history(session, pledge)[-1]
    assert (event.action, event.actor_user_id, event.details["reason"]) == (
        "pledge.cancelled",
        found.owner.id,
        "project archived",
    )
    other = pledged(session, acme(session), 100)
    pay(session, other, "1.00")
    with pytest.raises(TransitionError, match="paid pledge cannot be cancelled"):
        services.cancel(session, ACTOR, other, "why")


def test_manual_pledges_one_off_and_monthly(session, clock):
    found = acme(session)
    made = services.create_manual(
        session,
        Actor(user_id=found.owner.id),
        company_id=found.company.id,
        currency="USD",
        project_key="https://github.com/Tiny/tiny/",
        period="2026-12",
        amount="25.50",
        recurrence="monthly",
        note="conference sponsorship follow-up",
    )
    session.commit()
    assert (made.source, made.amount_minor, made.project_id, made.created_by_id) == (
        "manual",
        2_550,
        found.projects["tiny"].id,
        found.owner.id,
    )
    with pytest.raises(TransitionError, match="already has a manual pledge for 2026-12"):
        services.create_manual(
            session,
            ACTOR,
            company_id=found.company.id,
            currency="USD",
            project_key="github.com/tiny/tiny",
            period="2026-12",
            amount="1",
        )
    for key, amount, field in (
        ("github.com/no/such", "1", "project"),
        ("github.com/tiny/tiny", "0", "amount"),
        ("github.com/tiny/tiny", "ten", "amount"),
    ):
        with pytest.raises(TransitionError) as caught:
            services.create_manual(
                session,
                ACTOR,
                company_id=found.company.id,
                currency="USD",
                project_key=key,
                period="2027-02",
                amount=amount,
            )
        assert caught.value.field == field
    # The daily job repeats it into each new month, once.
    jobs.run_for_company(session, found.company.id, datetime(2027, 1, 2, 6, tzinfo=UTC))
    jobs.run_for_company(session, found.company.id, datetime(2027, 1, 3, 6, tzinfo=UTC))
    session.commit()
    repeated = services.pledges_of(session, found.company.id, "2027-01")
    assert [(p.amount_minor, p.repeats_id, p.note) for p in repeated] == [
        (2_550, made.id, "conference sponsorship follow-up")
    ]


def test_the_daily_job_marks_overdue_pledges_and_tells_the_owners(app, session, clock):
    found = acme(session)
    left, framework = found.projects["left"].id, found.projects["framework"].id
    apply(session, found.company, "2026-12", {left: 10_000, framework: 3_000})
    first, second = services.pledges_of(session, found.company.id)
    clock.at = datetime(2027, 1, 10, tzinfo=UTC)
    pay(session, first, "40.00")
    pay(session, second, "30.00")  # paid in full: never overdue
    with app.app_context():
        jobs.daily(datetime(2027, 1, 15, 6, tzinfo=UTC))  # the due day itself: not yet
        assert rows(session, found.company)[(left, "2026-12")] == (10_000, "partially_paid")
        jobs.daily(datetime(2027, 1, 16, 6, tzinfo=UTC))
        jobs.daily(datetime(2027, 1, 17, 6, tzinfo=UTC))  # idempotent
    assert rows(session, found.company) == {
        (left, "2026-12"): (10_000, "overdue"),
        (framework, "2026-12"): (3_000, "paid"),
    }
    notices = session.exec(select(Notification).where(Notification.kind == "pledges_overdue")).all()
    assert [(n.user_id, n.message) for n in notices] == [
        (
            found.owner.id,
            f"{found.company.name}: 1 pledge(s) became overdue (60.00 USD still owed).",
        )
    ]
    assert notices[0].link == f"/c/{found.company.slug}/pledges?state=overdue"
    assert actions(session, first)[-1] == "pledge.overdue"
    # Paying the rest makes it paid.
    clock.advance(timedelta(days=7))
    pay(session, first, "60.00")
    assert first.state == "paid"


def test_approval_through_the_review_makes_pledges(session, clock):
    found = acme(session)
    proposal = generate_proposal(session, ACTOR, found.company, "2026-12", NOW)
    approve(session, Actor(user_id=found.owner.id), proposal, None, NOW)
    session.commit()
    made = session.exec(select(Pledge).where(Pledge.company_id == found.company.id)).all()
    assert {p.project_id for p in made} == {
        found.projects["left"].id,
        found.projects["framework"].id,
    }
    assert {(p.period, p.proposal_id, p.state) for p in made} == {
        ("2026-12", proposal.id, "pledged")
    }


def test_listing_filters_and_totals(session, clock):
    found = acme(session)
    left, framework = found.projects["left"].id, found.projects["framework"].id
    apply(session, found.company, "2026-11", {left: 1_000})
    apply(session, found.company, "2026-12", {left: 10_000, framework: 3_000})
    clock.at = datetime(2026, 12, 20, tzinfo=UTC)
    pay(session, services.pledges_of(session, found.company.id, "2026-12")[0], "25.00")
    everything = services.list_pledges(session, found.company.id, services.PledgeFilters())
    assert [(r.project_key, r.pledge.period) for r in everything.rows] == [
        ("github.com/fw/framework", "2026-12"),
        ("github.com/left/pad", "2026-12"),
        ("github.com/left/pad", "2026-11"),
    ]
    assert everything.totals == {"USD": {"pledged": 14_000, "paid": 2_500, "owed": 11_500}}
    assert everything.periods == ["2026-12", "2026-11"]
    form = PledgeFilterForm({"period": "2026-12", "state": "partially_paid", "project": "LEFT"})
    assert form.problems == {}
    listed = services.list_pledges(session, found.company.id, form.filters)
    assert [r.pledge.amount_minor for r in listed.rows] == [10_000]
    # left/pad's FUNDING.yml names GitHub Sponsors; framework's maintainer has no channel.
    by_platform = services.list_pledges(
        session, found.company.id, services.PledgeFilters(platform="github_sponsors")
    )
    assert {r.project_key for r in by_platform.rows} == {"github.com/left/pad"}
    form = PledgeFilterForm({"period": "2026-13", "state": "lost", "platform": "x"})
    assert set(form.problems) == {"period", "state", "platform"}


def test_another_companys_pledge_is_not_found(session, clock):
    mine, theirs = acme(session), acme(session)
    pledge = pledged(session, theirs)
    assert services.pledge_of(session, mine.company.id, pledge.id) is None
    assert services.pledge_of(session, theirs.company.id, pledge.id).pledge.id == pledge.id
    assert services.list_pledges(session, mine.company.id, services.PledgeFilters()).rows == []
