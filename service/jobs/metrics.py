"""The queue's figures for /metrics, read from the database at scrape time: the same from
every web process on every host, whichever processes did the work."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily, Metric
from sqlalchemy import func
from sqlmodel import Session, col, select

from service.core.clock import utcnow
from service.jobs.models import PeriodicRun, Task, TaskStatus


def queue_metrics(session: Session) -> Iterator[Metric]:
    tasks = GaugeMetricFamily(
        "tributary_tasks",
        "Tasks by kind and status: queued and running are the queue, done and failed the "
        "outcomes (of the tasks kept)",
        labels=["kind", "status"],
    )
    query = select(Task.kind, Task.status, func.count()).group_by(Task.kind, Task.status)
    for kind, status, count in session.exec(query):
        tasks.add_metric([kind, TaskStatus(status).value], count)
    yield tasks

    due = GaugeMetricFamily(
        "tributary_tasks_due",
        "Queued tasks whose time has come, by kind (what the workers have yet to take)",
        labels=["kind"],
    )
    oldest = GaugeMetricFamily(
        "tributary_tasks_due_oldest_seconds",
        "How long the longest-waiting due task has waited, by kind",
        labels=["kind"],
    )
    now = utcnow()
    waiting = (
        select(Task.kind, func.count(), func.min(Task.run_after))
        .where(Task.status == TaskStatus.queued, col(Task.run_after) <= now)
        .group_by(Task.kind)
    )
    for kind, count, earliest in session.exec(waiting):
        due.add_metric([kind], count)
        oldest.add_metric([kind], max(0.0, (now - _aware(earliest, now)).total_seconds()))
    yield due
    yield oldest

    runs = GaugeMetricFamily(
        "tributary_periodic_last_run_timestamp_seconds",
        "When each periodic job last came due and was queued (Unix time)",
        labels=["job"],
    )
    for run in session.exec(select(PeriodicRun)):
        runs.add_metric([run.job_id], _aware(run.last_fire_at, now).timestamp())
    yield runs


def _aware(moment, now):
    # SQLite hands back naive UTC datetimes.
    return moment if moment.tzinfo else moment.replace(tzinfo=now.tzinfo)
