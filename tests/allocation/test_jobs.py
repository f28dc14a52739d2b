"""The monthly job under a controlled clock: one proposal per company and period, whatever
crashes and reruns happen."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import col, select

from service.allocation import generation, jobs
from service.allocation.models import Proposal
from service.jobs import registry
from service.jobs.models import Task
from service.jobs.scheduler import next_runs
from tests.allocation.data import acme
from tests.factories import make_company

RUN = datetime(2026, 12, 1, 5, tzinfo=UTC)


@pytest.fixture
def companies(session):
    made = [acme(session).company for _ in range(5)]
    make_company(session, monthly_budget_minor=0)  # no budget: never proposed for
    return made


def proposals(session):
    session.expire_all()
    return session.exec(
        select(Proposal.company_id, Proposal.period, Proposal.state).order_by(
            col(Proposal.company_id)
        )
    ).all()


def test_the_job_is_registered_for_the_first_of_the_month():
    registry.load_job_modules()
    assert registry.PERIODIC["allocation.monthly_proposals"].func is jobs.monthly
    assert registry.PERIODIC["allocation.monthly_proposals"].cron == {"day": 1, "hour": 5}
    runs = next_runs(datetime(2026, 11, 30, 23, 0, tzinfo=UTC))
    assert runs["allocation.monthly_proposals"] == RUN
    assert runs["pledges.daily"] == datetime(2026, 12, 1, 6, tzinfo=UTC)


def test_one_proposal_per_company_put_into_review(app, session, companies):
    with app.app_context():
        jobs.monthly(RUN)
    rows = proposals(session)
    assert [(c, p, s) for c, p, s in rows] == [(c.id, "2026-12", "in_review") for c in companies]


def test_running_twice_creates_nothing_more(app, session, companies):
    with app.app_context():
        jobs.monthly(RUN)
        jobs.monthly(RUN)
    assert len(proposals(session)) == len(companies)


def test_an_existing_proposal_of_the_month_is_left_alone(app, session, companies):
    first = companies[0]
    with app.app_context():
        from service.audit.services import Actor

        generation.generate_proposal(session, Actor.system("cli"), first, "2026-12", RUN)
        session.commit()
        jobs.monthly(RUN)
    rows = proposals(session)
    assert len(rows) == len(companies)
    assert rows[0] == (first.id, "2026-12", "draft")  # not replaced, not submitted


def test_a_crash_midway_then_a_rerun_completes_without_duplicates(
    app, session, companies, monkeypatch
):
    real = generation.generate_proposal
    failing = companies[3].id

    def crash_for_one(session_, actor, company, *args, **kwargs):
        if company.id == failing:
            raise RuntimeError("database went away")
        return real(session_, actor, company, *args, **kwargs)

    monkeypatch.setattr(jobs, "generate_proposal", crash_for_one)
    with app.app_context():
        jobs.monthly(RUN)
    assert [c for c, _p, _s in proposals(session)] == [c.id for c in companies if c.id != failing]
    # The failed company is queued for a retry with backoff...
    retry = session.exec(select(Task).where(Task.kind == jobs.GENERATE_TASK)).one()
    assert retry.payload == {"company_id": failing, "period": "2026-12"}
    # ...and the restarted job (or the retry) creates only what is missing.
    monkeypatch.setattr(jobs, "generate_proposal", real)
    with app.app_context():
        jobs.monthly(RUN)
        jobs.generate(retry.payload, RUN)
    assert [c for c, _p, _s in proposals(session)] == [c.id for c in companies]


def test_a_crash_that_stops_the_run_is_completed_by_the_next(app, session, companies, monkeypatch):
    real = jobs.generate_for_company
    calls = []

    def die_at_the_fourth(company_id, period, now):
        calls.append(company_id)
        if len(calls) == 4:
            raise SystemExit("scheduler killed")
        return real(company_id, period, now)

    monkeypatch.setattr(jobs, "generate_for_company", die_at_the_fourth)
    with app.app_context(), pytest.raises(SystemExit):
        jobs.monthly(RUN)
    assert len(proposals(session)) == 3
    monkeypatch.setattr(jobs, "generate_for_company", real)
    with app.app_context():
        jobs.monthly(RUN)
    rows = proposals(session)
    assert sorted(c for c, _p, _s in rows) == sorted(c.id for c in companies)


def test_next_month_gets_its_own_proposal(app, session, companies):
    with app.app_context():
        jobs.monthly(RUN)
        jobs.monthly(datetime(2027, 1, 1, 5, tzinfo=UTC))
    periods = sorted({p for _c, p, _s in proposals(session)})
    assert periods == ["2026-12", "2027-01"]
    assert len(proposals(session)) == 2 * len(companies)
