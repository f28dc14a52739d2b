"""Background work: the leased task queue, the periodic-job registry, the scheduler and
the worker processes."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask

COMMANDS = {
    "scheduler": (
        "service.jobs.cli:scheduler_command",
        "Queue periodic work when it comes due (one schedules; others stand by).",
    ),
    "worker": (
        "service.jobs.cli:worker_command",
        "Run queued tasks until stopped (SIGTERM finishes or releases the current ones).",
    ),
    "jobs": ("service.jobs.cli:jobs_group", "Inspect and run background work by hand."),
}


def init_web(app: Flask) -> None:
    """The queue's figures on /metrics."""
    from service.core.metrics import add_database_reader
    from service.jobs.metrics import queue_metrics

    add_database_reader(app, queue_metrics)
