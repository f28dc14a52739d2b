"""The scheduler killed mid-run and restarted, and two schedulers at once (one of them
cut off from the database): every company gets exactly one proposal, one scheduler
schedules."""

from __future__ import annotations

import signal
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, text
from sqlmodel import select

from service.allocation.jobs import GENERATE_TASK
from service.allocation.models import Proposal
from service.core.clock import utcnow
from service.db import Database
from service.jobs.models import PeriodicRun, SchedulerLease, Task, TaskStatus
from service.jobs.registry import PERIODIC, load_job_modules
from tests.factories import make_company
from tests.faults.processes import started, wait_for

MONTHLY = "allocation.monthly_proposals"
DAILY = "risk.nightly_recompute"
FAST = {"TRIBUTARY_SCHEDULER_LEASE_SECONDS": "2", "TRIBUTARY_TASK_LEASE_SECONDS": "2"}


def missed_monthly_run(database: Database, companies: int) -> list[int]:
    """Companies with a budget, and a monthly run missed while no scheduler was up."""
    load_job_modules()
    now = utcnow()
    with database.transaction() as session:
        ids = [make_company(session).id for _ in range(companies)]
        for job_id in PERIODIC:
            last = now - timedelta(days=40) if job_id == MONTHLY else now
            session.add(PeriodicRun(job_id=job_id, last_fire_at=last))
    return ids


def count(database: Database, query) -> int:
    with database.transaction() as session:
        return session.exec(query).one()


def periodic_tasks(database: Database, job_id: str) -> int:
    return count(
        database,
        select(func.count()).select_from(Task).where(Task.unique_key == f"periodic:{job_id}"),
    )


def proposals_by_company(database: Database) -> dict[int, int]:
    with database.transaction() as session:
        rows = session.exec(select(Proposal.company_id, func.count()).group_by(Proposal.company_id))
        return dict(rows.all())


def pending(database: Database) -> int:
    return count(
        database,
        select(func.count())
        .select_from(Task)
        .where(Task.status.in_([TaskStatus.queued, TaskStatus.running])),
    )


@pytest.fixture
def run(database, tmp_path, spawn):
    return lambda *args: spawn(database.url, tmp_path, *args, **FAST)


def test_killed_mid_monthly_run_then_restarted_every_company_gets_one_proposal(database, run):
    companies = missed_monthly_run(database, 20)
    scheduler = run("scheduler")
    wait_for("the missed run to be queued", lambda: periodic_tasks(database, MONTHLY))
    scheduler.send_signal(signal.SIGKILL)
    scheduler.wait(30)
    worker = run("worker")
    wait_for("a few proposals", lambda: sum(proposals_by_company(database).values()) >= 4)
    worker.send_signal(signal.SIGKILL)  # mid-way through the companies
    worker.wait(30)
    restarted = [run("scheduler"), run("worker")]
    wait_for("the restarted processes to start", lambda: all(map(started, restarted)))
    try:
        wait_for("every company's proposal", lambda: len(proposals_by_company(database)) == 20)
        wait_for("the queue to drain", lambda: pending(database) == 0)
    finally:
        for process in restarted:
            process.terminate()
    assert [process.wait(60) for process in restarted] == [0, 0]
    assert proposals_by_company(database) == {company: 1 for company in companies}
    assert periodic_tasks(database, MONTHLY) == 1  # the restart did not run the month again
    generated = count(
        database,
        select(func.count())
        .select_from(Task)
        .where(Task.kind == GENERATE_TASK, Task.status == TaskStatus.done),
    )
    assert generated == 20


def scheduled(log: Path) -> list[str]:
    return [line for line in log.read_text().splitlines() if "queued as task" in line]


@pytest.mark.postgres
def test_two_schedulers_one_cut_off_from_the_database_one_schedules(
    fresh_postgres_url, tmp_path, spawn
):
    database = Database(fresh_postgres_url)
    database.upgrade()
    try:
        missed_monthly_run(database, 3)
        schedulers = {}
        for name in ("first", "second"):
            url = f"{fresh_postgres_url}?application_name=scheduler-{name}"
            schedulers[name] = spawn(url, tmp_path / name, "scheduler", **FAST)
        wait_for("the missed run to be queued", lambda: periodic_tasks(database, MONTHLY))

        def holder() -> str:
            with database.transaction() as session:
                lease = session.get(SchedulerLease, "scheduler")
                pid = int(lease.holder.rsplit(":", 1)[1])
            return next(name for name, process in schedulers.items() if process.pid == pid)

        holding = holder()
        with database.engine.connect() as admin:
            cut = admin.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                    " WHERE application_name = :name"
                ),
                {"name": f"scheduler-{holding}"},
            ).scalar()
            admin.commit()
        assert cut >= 1
        # A daily job comes due again: exactly one scheduler queues it.
        with database.transaction() as session:
            run_row = session.get(PeriodicRun, DAILY)
            run_row.last_fire_at = utcnow() - timedelta(days=2)
            session.add(run_row)
        wait_for(
            "the daily job to be queued",
            lambda: periodic_tasks(database, DAILY),
        )
        for process in schedulers.values():
            process.terminate()
        assert [process.wait(60) for process in schedulers.values()] == [0, 0]
        logs = {name: next((tmp_path / name).glob("scheduler-*.log")) for name in schedulers}
        lines = {name: scheduled(log) for name, log in logs.items()}
        assert sum(len(found) for found in lines.values()) == 2, lines
        assert periodic_tasks(database, MONTHLY) == 1
        assert periodic_tasks(database, DAILY) == 1
    finally:
        database.engine.dispose()
