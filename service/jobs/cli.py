"""`tributary scheduler` and `tributary jobs …`: run and inspect background work."""

from __future__ import annotations

import logging
import sys

import click
from flask import current_app
from sqlalchemy import func
from sqlmodel import select

from service.core.cli import with_appcontext
from service.core.clock import utcnow
from service.db import get_db
from service.jobs.models import Task
from service.jobs.queue import run_pending
from service.jobs.registry import PERIODIC, load_job_modules
from service.jobs.scheduler import next_runs, run_scheduler


@click.command("scheduler")
@with_appcontext
def scheduler_command() -> None:
    """Run the scheduler (monthly proposals, nightly refresh, the task queue) until stopped."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    sys.exit(run_scheduler(current_app._get_current_object()))


@click.group("jobs")
def jobs_group() -> None:
    """Inspect and run background work by hand."""


@jobs_group.command("list")
@with_appcontext
def jobs_list() -> None:
    """Periodic jobs with their next run, and the task queue by status."""
    for job_id, when in sorted(next_runs().items()):
        click.echo(f"{job_id:<32} next {when:%Y-%m-%d %H:%M} UTC  {PERIODIC[job_id].description}")
    with get_db().transaction() as session:
        rows = session.exec(select(Task.status, func.count()).group_by(Task.status)).all()
    click.echo("queue: " + (", ".join(f"{status} {count}" for status, count in rows) or "empty"))


@jobs_group.command("run-pending")
@with_appcontext
def jobs_run_pending() -> None:
    """Run every task that is due now, then exit."""
    ran = run_pending(get_db())
    click.echo(f"Ran {ran} task(s).")


@jobs_group.command("run")
@click.argument("job_id")
@with_appcontext
def jobs_run(job_id: str) -> None:
    """Run one periodic job now (it is idempotent, so running it early is safe)."""
    load_job_modules()
    if job_id not in PERIODIC:
        raise click.ClickException(f"No job {job_id!r}; known: {', '.join(sorted(PERIODIC))}.")
    PERIODIC[job_id].func(utcnow())
    click.echo(f"Ran {job_id}.")
