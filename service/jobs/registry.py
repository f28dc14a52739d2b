"""Domains declare their background work here by decorator; workers run it.

`@task("kind")` marks a function run from the queue: fn(payload, now).
`@periodic("id", cron={...})` marks a function run on a schedule: fn(now).
`@after("kind")` marks a function run, with the task's payload, after every task of that
kind that succeeds: fn(payload, now). A higher domain follows up a lower one's work this
way, so the lower one never imports it (risk rescores a company once projects resolved
its SBOM); a follow-up that fails fails the task, which is retried.
All run inside an application context and open their own transactions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

TaskHandler = Callable[[dict[str, Any], datetime], None]
PeriodicHandler = Callable[[datetime], None]


@dataclass(frozen=True)
class PeriodicJob:
    id: str
    func: PeriodicHandler
    cron: dict[str, Any]
    description: str


TASKS: dict[str, TaskHandler] = {}
FOLLOW_UPS: dict[str, list[TaskHandler]] = {}
PERIODIC: dict[str, PeriodicJob] = {}


def task(kind: str) -> Callable[[TaskHandler], TaskHandler]:
    def register(func: TaskHandler) -> TaskHandler:
        TASKS[kind] = func
        return func

    return register


def after(kind: str) -> Callable[[TaskHandler], TaskHandler]:
    def register(func: TaskHandler) -> TaskHandler:
        FOLLOW_UPS.setdefault(kind, []).append(func)
        return func

    return register


def periodic(job_id: str, *, cron: dict[str, Any]) -> Callable[[PeriodicHandler], PeriodicHandler]:
    def register(func: PeriodicHandler) -> PeriodicHandler:
        description = (func.__doc__ or job_id).strip().splitlines()[0]
        PERIODIC[job_id] = PeriodicJob(job_id, func, cron, description)
        return func

    return register


def load_job_modules() -> None:
    """Import every domain's jobs module, registering its work."""
    from service.domains import import_modules

    import_modules("jobs")
