"""Recomputing from the scheduler and the command line."""

from __future__ import annotations

import json

from sqlmodel import select

from service.cli import cli
from service.jobs.models import Task
from service.jobs.queue import run_pending
from service.jobs.registry import PERIODIC, TASKS, load_job_modules
from service.risk import jobs
from service.risk.models import CompanyExposureSnapshot, ProjectRisk
from tests.factories import make_company
from tests.risk.data import NOW, acme_scenario


def exposure_days(session, company):
    return session.exec(
        select(CompanyExposureSnapshot.taken_on).where(
            CompanyExposureSnapshot.company_id == company.id
        )
    ).all()


def test_jobs_are_registered():
    load_job_modules()
    assert "risk.recompute_company" in TASKS
    assert PERIODIC["risk.nightly_recompute"].cron == {"hour": 3, "minute": 0}


def test_resolution_queues_one_recompute_which_the_queue_runs(app, session):
    company = make_company(session)
    acme_scenario(session, company)
    sbom_id = session.exec(select(Task.payload).where(Task.kind == "projects.resolve_sbom")).first()
    assert sbom_id is not None  # ingest queued resolution; its end queues risk
    with app.app_context():
        jobs.queue_recompute_for_sbom(sbom_id["sbom_id"])
        jobs.queue_recompute_for_sbom(sbom_id["sbom_id"])  # still one: unique key
        queued = session.exec(select(Task).where(Task.kind == "risk.recompute_company")).all()
        assert [t.unique_key for t in queued] == [f"risk:company:{company.id}"]
        for task in session.exec(select(Task).where(Task.kind != "risk.recompute_company")):
            session.delete(task)  # resolution itself is not under test here
        session.commit()
        assert run_pending(app.extensions["tributary.db"]) == 1  # queued for "now"
    assert len(session.exec(select(ProjectRisk)).all()) == 3
    assert len(exposure_days(session, company)) == 1


def test_nightly_rescores_every_company_with_an_sbom(app, session):
    with_sboms = make_company(session)
    acme_scenario(session, with_sboms)
    without = make_company(session)
    with app.app_context():
        jobs.nightly(NOW)
        jobs.nightly(NOW)  # idempotent
    assert exposure_days(session, with_sboms) == [NOW.date()]
    assert exposure_days(session, without) == []


def test_cli_recompute(app, session):
    company = make_company(session, "clirisk")
    acme_scenario(session, company)
    runner = app.test_cli_runner()
    result = runner.invoke(cli, ["risk", "recompute", "--company", "clirisk", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["projects"], report["changed"], report["removed"]) == (3, 3, 0)
    again = runner.invoke(cli, ["risk", "recompute", "--company", "clirisk"])
    assert again.exit_code == 0 and "0 changed" in again.stdout
    missing = runner.invoke(cli, ["risk", "recompute", "--company", "ghost"])
    assert missing.exit_code != 0 and "No company with the slug 'ghost'" in missing.stderr
