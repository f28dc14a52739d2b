"""Pledges: one per company and project, following approvals; the daily due check."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import select

from service.allocation.generation import generate_proposal
from service.allocation.review import approve
from service.audit.models import Event
from service.audit.services import Actor
from service.notifications.models import Notification
from service.pledges import jobs
from service.pledges.models import Pledge
from service.pledges.services import apply_approval, paying_amounts
from tests.allocation.data import acme, upload

NOW = datetime(2026, 12, 1, 5, tzinfo=UTC)
ACTOR = Actor.system("test")


def apply(session, company, period, amounts):
    change = apply_approval(
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


def rows(session):
    session.expire_all()
    return {
        p.project_id: (p.amount_minor, p.status, p.from_period)
        for p in session.exec(select(Pledge))
    }


def test_approvals_create_update_and_end_pledges(session):
    found = acme(session)
    left, framework = found.projects["left"].id, found.projects["framework"].id
    change = apply(session, found.company, "2026-12", {left: 500, framework: 300})
    assert (change.created, change.updated, change.ended) == (2, 0, 0)
    change = apply(session, found.company, "2027-01", {left: 500})
    assert (change.unchanged, change.ended) == (1, 1)
    assert rows(session) == {left: (500, "active", "2027-01"), framework: (300, "ended", "2026-12")}
    # A project paid again gets its one pledge back.
    change = apply(session, found.company, "2027-02", {left: 700, framework: 100})
    assert (change.updated, change.created) == (2, 0)
    assert rows(session) == {
        left: (700, "active", "2027-02"),
        framework: (100, "active", "2027-02"),
    }
    assert paying_amounts(session, found.company.id) == {left: 700, framework: 100}
    events = session.exec(select(Event).where(Event.action == "pledges.updated")).all()
    assert len(events) == 3


def test_daily_check_marks_pledges_of_departed_projects_as_ending(app, session):
    found = acme(session)
    proposal = generate_proposal(session, ACTOR, found.company, "2026-12", NOW)
    approve(session, Actor(user_id=found.owner.id), proposal, None, NOW)
    session.commit()
    framework = found.projects["framework"].id
    # The web product drops framework (and tiny with it).
    upload(session, found.company, "web", ["pkg:npm/left-pad"])
    with app.app_context():
        jobs.daily_due_checks(NOW)
        jobs.daily_due_checks(NOW)  # idempotent
    statuses = {pid: status for pid, (_a, status, _p) in rows(session).items()}
    assert statuses[framework] == "ending"
    assert statuses[found.projects["left"].id] == "active"
    ending = session.exec(select(Notification).where(Notification.kind == "pledges_ending")).all()
    assert sorted(n.user_id for n in ending) == sorted([found.owner.id, found.reviewer.id])
    assert len(session.exec(select(Event).where(Event.action == "pledges.due_checked")).all()) == 1
    # Still paid this month, so still counted...
    assert framework in paying_amounts(session, found.company.id)
    # ...and active again when the project comes back.
    upload(session, found.company, "web", ["pkg:npm/left-pad", "pkg:pypi/framework"])
    with app.app_context():
        jobs.daily_due_checks(NOW)
    assert rows(session)[framework][1] == "active"
