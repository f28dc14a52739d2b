"""The monthly job under a controlled clock: one task, then one proposal, per company and
period, whatever crashes and reruns happen."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import col, select

from service.allocation import generation, jobs
from service.allocation.models import Proposal
from service.jobs import registry
from service.jobs.models import Task, TaskStatus
from service.jobs.queue import DEFAULT_LEASE, claim, run_pending
from service.jobs.scheduler import next_runs
from tests.allocation.data import acme
from tests.factories import make_company

RUN = NOW = datetime(2026, 12, 1, 5, tzinfo=UTC)
pytestmark = pytest.mark.usefixtures("clock")


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


# The fixtures' SBOMs queue resolution too; these tests run only the proposals' tasks.
ONLY_PROPOSALS = [jobs.GENERATE_TASK]


def run_month(app, now=RUN) -> None:
    """The scheduler's part (queue the month), then the workers' (run what is due)."""
    with app.app_context():
        jobs.monthly(now)
        run_pending(app.extensions["tributary.db"], now=now, kinds=ONLY_PROPOSALS)


def test_the_run_queues_one_task_per_company_with_a_budget(app, session, companies):
    with app.app_context():
        jobs.monthly(RUN)
        jobs.monthly(RUN)  # a second run (another scheduler, a rerun) queues nothing more
    tasks = session.exec(
        select(Task).where(Task.kind == jobs.GENERATE_TASK).order_by(col(Task.id))
    ).all()
    assert [(t.kind, t.payload, t.unique_key) for t in tasks] == [
        (
            jobs.GENERATE_TASK,
            {"company_id": c.id, "period": "2026-12"},
            f"allocation:{c.id}:2026-12",
        )
        for c in companies
    ]
    assert proposals(session) == []  # the workers generate them


def test_one_proposal_per_company_put_into_review(app, session, companies):
    run_month(app)
    rows = proposals(session)
    assert [(c, p, s) for c, p, s in rows] == [(c.id, "2026-12", "in_review") for c in companies]


def test_running_twice_creates_nothing_more(app, session, companies):
    run_month(app)
    run_month(app)
    assert len(proposals(session)) == len(companies)


def test_an_existing_proposal_of_the_month_is_left_alone(app, session, companies):
    first = companies[0]
    with app.app_context():
        from service.audit.services import Actor

        generation.generate_proposal(session, Actor.system("cli"), first, "2026-12", RUN)
        session.commit()
    run_month(app)
    rows = proposals(session)
    assert len(rows) == len(companies)
    assert rows[0] == (first.id, "2026-12", "draft")  # not replaced, not submitted


def test_a_company_that_fails_is_retried_without_holding_up_the_others(
    app, session, companies, monkeypatch
):
    real = generation.generate_proposal
    failing = companies[3].id

    def crash_for_one(session_, actor, company, *args, **kwargs):
        if company.id == failing:
            raise RuntimeError("database went away")
        return real(session_, actor, company, *args, **kwargs)

    monkeypatch.setattr(jobs, "generate_proposal", crash_for_one)
    run_month(app)
    assert [c for c, _p, _s in proposals(session)] == [c.id for c in companies if c.id != failing]
    retry = session.exec(
        select(Task).where(Task.kind == jobs.GENERATE_TASK, Task.status == TaskStatus.queued)
    ).one()
    assert retry.payload == {"company_id": failing, "period": "2026-12"}
    assert retry.last_error == "RuntimeError: database went away"
    monkeypatch.setattr(jobs, "generate_proposal", real)
    with app.app_context():
        assert (
            run_pending(app.extensions["tributary.db"], now=retry.run_after, kinds=ONLY_PROPOSALS)
            == 1
        )
    assert [c for c, _p, _s in proposals(session)] == [c.id for c in companies]


def test_a_worker_killed_midway_leaves_the_rest_to_the_next(app, session, companies):
    database = app.extensions["tributary.db"]
    with app.app_context():
        jobs.monthly(RUN)
        assert run_pending(database, now=RUN, limit=3, kinds=ONLY_PROPOSALS) == 3
        # The next worker claims the fourth company and is killed before it finishes.
        assert (
            claim(database, "killed:1", now=RUN, lease=DEFAULT_LEASE, kinds=ONLY_PROPOSALS)
            is not None
        )
        assert (
            run_pending(database, now=RUN, kinds=ONLY_PROPOSALS) == 1
        )  # the fifth; the fourth is still leased
        assert len(proposals(session)) == 4
        assert run_pending(database, now=RUN + DEFAULT_LEASE * 2, kinds=ONLY_PROPOSALS) == 1
    rows = proposals(session)
    assert sorted(c for c, _p, _s in rows) == sorted(c.id for c in companies)


def test_next_month_gets_its_own_proposal(app, session, companies):
    run_month(app)
    run_month(app, datetime(2027, 1, 1, 5, tzinfo=UTC))
    periods = sorted({p for _c, p, _s in proposals(session)})
    assert periods == ["2026-12", "2027-01"]
    assert len(proposals(session)) == 2 * len(companies)
