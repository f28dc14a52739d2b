"""Background work of the jobs domain itself.

* ``jobs.periodic`` — ``{"job", "due"}``: one periodic job's work, queued by the scheduler
  when the job came due (``due``) and run by a worker like any other task.
"""

from __future__ import annotations

from datetime import datetime

from service.jobs.registry import PERIODIC, task
from service.jobs.scheduler import PERIODIC_TASK


@task(PERIODIC_TASK)
def run_periodic(payload: dict, now: datetime) -> None:
    PERIODIC[payload["job"]].func(now)
