"""`tributary scheduler`, `tributary worker` and `tributary jobs …`: run and inspect
background work."""

from __future__ import annotations

import signal
from datetime import timedelta

import click
from flask import current_app
from sqlalchemy import func
from sqlmodel import select

from service.core.cli import with_appcontext
from service.core.clock import utcnow
from service.core.logs import configure_logging
from service.core.services import get_settings
from service.db import get_db
from service.jobs.models import Task
from service.jobs.queue import run_pending
from service.jobs.registry import PERIODIC, TASKS, load_job_modules
from service.jobs.scheduler import Scheduler, next_runs
from service.jobs.worker import Worker


def _stop_on_signals(stop) -> None:
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda _signum, _frame: stop())


@click.command("scheduler")
@with_appcontext
def scheduler_command() -> None:
    """Queue periodic work when it comes due (one schedules; others stand by).

    Run one per installation; a second one stands by and takes over if the first stops.
    """
    configure_logging("scheduler")
    scheduler = Scheduler(current_app._get_current_object())
    _stop_on_signals(scheduler.stop)
    scheduler.serve()


@click.command("worker")
@click.option("--threads", default=1, show_default=True, type=click.IntRange(1, 64))
@click.option("--kind", "kinds", multiple=True, help="Run only tasks of this kind (repeatable).")
@click.option(
    "--grace",
    default=30.0,
    show_default=True,
    type=click.FloatRange(0),
    help="Seconds a stopping worker lets its tasks finish before it releases them.",
)
@with_appcontext
def worker_command(threads: int, kinds: tuple[str, ...], grace: float) -> None:
    """Run queued tasks until stopped (SIGTERM finishes or releases the current ones)."""
    configure_logging("worker")
    load_job_modules()
    unknown = sorted(set(kinds) - set(TASKS))
    if unknown:
        raise click.BadParameter(
            f"unknown task kind(s) {', '.join(unknown)}; known: {', '.join(sorted(TASKS))}",
            param_hint="--kind",
        )
    worker = Worker(current_app._get_current_object(), threads=threads, kinds=kinds)
    _stop_on_signals(worker.stop)
    worker.serve(grace=grace)


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
    configure_logging("worker")
    lease = timedelta(seconds=get_settings().task_lease_seconds)
    ran = run_pending(get_db(), lease=lease)
    click.echo(f"Ran {ran} task(s).")


@jobs_group.command("run")
@click.argument("job_id")
@with_appcontext
def jobs_run(job_id: str) -> None:
    """Run one periodic job now (it is idempotent, so running it early is safe)."""
    configure_logging("worker")
    load_job_modules()
    if job_id not in PERIODIC:
        raise click.ClickException(f"No job {job_id!r}; known: {', '.join(sorted(PERIODIC))}.")
    PERIODIC[job_id].func(utcnow())
    click.echo(f"Ran {job_id}; tasks it queued run in `tributary worker` or `jobs run-pending`.")
