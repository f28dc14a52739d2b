"""The company dashboard: money by month (maintainers and registries apart), coverage over
time, unfunded risks and pledges due, each chart with its numbers."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlmodel import select

from service.allocation.review import approve
from service.audit.services import Actor
from service.overview.money import last_periods, money_by_month, pledges_due
from service.pledges.models import Pledge
from service.pledges.services import cancel, record_payment
from tests.allocation.data import acme
from tests.allocation.test_proposals import UNCAPPED, generate, save_policy
from tests.conftest import login

NOW = datetime(2027, 2, 3, 9, 0, tzinfo=UTC)


def approved_months(session, found, *periods):
    for period in periods:
        proposal = generate(session, found, period)
        approve(session, Actor(user_id=found.owner.id), proposal, None, NOW)
        session.commit()


def pledge_of(session, found, name, period):
    return session.exec(
        select(Pledge).where(Pledge.project_id == found.projects[name].id, Pledge.period == period)
    ).one()


def test_money_by_month_from_the_first_month_with_money(session):
    found = acme(session)
    save_policy(session, found.company, UNCAPPED)
    approved_months(session, found, "2026-12", "2027-01")
    left = pledge_of(session, found, "left", "2026-12")
    record_payment(
        session,
        Actor.system("t"),
        left,
        amount="10.00",
        currency="USD",
        paid_on=date(2027, 1, 5),
        platform="github_sponsors",
        now=NOW,
    )
    framework = pledge_of(session, found, "framework", "2027-01")
    cancel(session, Actor(user_id=found.owner.id), framework, "paid elsewhere")
    session.commit()
    months = money_by_month(session, found.company, last_periods("2027-02", 12))
    assert [m.period for m in months] == ["2026-12", "2027-01", "2027-02"]
    december, january, february = months
    # left 650.00 + framework 225.00 pledged in December (tiny held); January the same
    # without the cancelled framework pledge.
    assert (december.budget, december.pledged, december.paid, december.unpaid) == (
        100_000,
        87_500,
        1_000,
        86_500,
    )
    assert (january.pledged, january.to_registries, january.to_maintainers) == (65_000, 0, 65_000)
    assert (february.budget, february.pledged) == (0, 0)  # not approved yet


def test_pledges_due_lists_the_overdue_first(session):
    found = acme(session)
    save_policy(session, found.company, UNCAPPED)
    approved_months(session, found, "2026-12", "2027-01")
    december = pledge_of(session, found, "left", "2026-12")
    december.state = "overdue"
    session.add(december)
    session.commit()
    due = pledges_due(session, found.company.id, date(2027, 1, 20))
    assert [(d.project_key, d.pledge.period, d.overdue) for d in due][:1] == [
        ("github.com/left/pad", "2026-12", True)
    ]
    assert {d.pledge.period for d in due} == {"2026-12", "2027-01"}
    assert pledges_due(session, found.company.id, date(2026, 11, 1)) == []


def test_the_dashboard_page_shows_charts_with_their_numbers(client, session, clock):
    found = acme(session)
    save_policy(session, found.company, UNCAPPED)
    approved_months(session, found, "2026-12", "2027-01")
    login(client, found.viewer)
    page = client.get(f"/c/{found.company.slug}/dashboard")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Budget, pledged and paid by month" in html and "<svg" in html
    assert "875.00" in html  # December's pledges, in the numbers table
    assert "Risk has not been computed yet." in html  # coverage: nothing scored
    assert "Pledges due and overdue" in html
    assert f'href="/c/{found.company.slug}/dashboard"' in client.get(
        f"/c/{found.company.slug}/"
    ).get_data(as_text=True)


def test_another_companys_dashboard_answers_404(client, session):
    found = acme(session)
    other = acme(session, slug="other")
    login(client, other.viewer)
    assert client.get(f"/c/{found.company.slug}/dashboard").status_code == 404
