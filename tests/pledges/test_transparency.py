"""Public transparency pages: opt-in per company, readable without signing in; a project
counts only the companies that publish (named, or anonymous when they chose so)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from service.audit.services import Actor
from service.pledges import services
from service.pledges.transparency import company_report, project_received, public_company
from tests.conftest import csrf_token, login

NOW = datetime(2027, 1, 20, 9, tzinfo=UTC)


def publish(session, company, *, anonymous=False):
    services.save_settings(
        session, Actor.system("t"), company.id, due_day=15, anonymous=anonymous, public=True
    )
    session.commit()


def pay(session, pledge, amount, on):
    services.record_payment(
        session,
        Actor.system("t"),
        pledge,
        amount=amount,
        currency=pledge.currency,
        paid_on=on,
        platform="github_sponsors",
        now=NOW,
    )
    session.commit()


def test_nothing_is_public_until_the_company_opts_in(client, session, found):
    slug = found.company.slug
    assert public_company(session, slug) is None
    assert client.get(f"/transparency/{slug}").status_code == 404
    assert found.company.name not in client.get("/transparency").get_data(as_text=True)
    left = found.projects["left"]
    assert project_received(session, left) == []


def test_a_published_company_shows_pledged_and_paid_by_month_and_project(client, session, found):
    publish(session, found.company)
    pledges = services.pledges_of(session, found.company.id)
    left = next(p for p in pledges if p.project_id == found.projects["left"].id)
    pay(session, left, "10.00", date(2027, 1, 10))
    report = company_report(session, found.company)
    assert [(m.label, m.pledged, m.paid) for m in report.months] == [
        (left.period, sum(p.amount_minor for p in pledges), 1_000)
    ]
    assert ("github.com/left/pad", left.amount_minor, 1_000) in [
        (p.label, p.pledged, p.paid) for p in report.projects
    ]
    page = client.get(f"/transparency/{found.company.slug}")  # no sign-in
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "github.com/left/pad" in html and "10.00" in html
    assert found.company.name in client.get("/transparency").get_data(as_text=True)
    received = client.get("/transparency/projects/github.com/left/pad").get_data(as_text=True)
    assert found.company.name in received and "10.00 USD" in received


def test_an_anonymous_publisher_is_counted_without_its_name(session, found):
    publish(session, found.company, anonymous=True)
    received = project_received(session, found.projects["left"])
    assert [r.label for r in received] == ["anonymous company"]


def test_owners_turn_it_on_in_the_pledge_settings(app, client, session, found):
    login(client, found.owner)
    token = csrf_token(client, app)
    answer = client.post(
        f"/c/{found.company.slug}/pledges/settings",
        data={"csrf_token": token, "due_day": "15", "public": "yes"},
    )
    assert answer.status_code == 302
    assert public_company(session, found.company.slug) is not None
