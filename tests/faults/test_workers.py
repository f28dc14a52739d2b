"""Workers killed mid-task: another finishes the task once, after the lease; SIGTERM
finishes the task under way or gives it back."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
from sqlmodel import select

from service.db import Database
from service.jobs.models import Task, TaskStatus
from service.jobs.queue import enqueue
from tests.faults.processes import GATE_TASK, wait_for

LEASE = {"TRIBUTARY_TASK_LEASE_SECONDS": "1"}


class Gate:
    def __init__(self, database: Database, where: Path) -> None:
        self.database = database
        self.log, self.gate = where / "gate.log", where / "gate.open"
        self.log.touch()
        with database.transaction() as session:
            queued = enqueue(session, GATE_TASK, {"log": str(self.log), "gate": str(self.gate)})
            session.flush()
            self.task_id = queued.id

    def lines(self) -> list[str]:
        return self.log.read_text().splitlines()

    def task(self) -> Task:
        with self.database.transaction() as session:
            return session.exec(select(Task).where(Task.id == self.task_id)).one()


@pytest.fixture
def worker(database, tmp_path, spawn):
    return lambda *args: spawn(database.url, tmp_path, "worker", *args, **LEASE)


def test_a_killed_workers_task_is_finished_once_by_another(database, tmp_path, worker):
    gate = Gate(database, tmp_path)
    first = worker()
    wait_for("the first worker to start the task", lambda: gate.lines())
    first.send_signal(signal.SIGKILL)
    first.wait(30)
    gate.gate.touch()
    second = worker()
    try:
        wait_for("the task to be done", lambda: gate.task().status == TaskStatus.done)
    finally:
        second.terminate()
    assert second.wait(60) == 0
    assert gate.lines() == [f"start {first.pid}", f"start {second.pid}", f"end {second.pid}"]
    done = gate.task()
    assert (done.attempts, done.worker, done.last_error) == (2, None, None)


def test_sigterm_gives_an_unfinished_task_back_at_once(database, tmp_path, worker):
    gate = Gate(database, tmp_path)
    stopping = worker("--grace", "0")
    wait_for("the worker to start the task", lambda: gate.lines())
    stopping.terminate()
    assert stopping.wait(60) == 0
    released = gate.task()
    assert (released.status, released.attempts, released.worker) == (TaskStatus.queued, 0, None)
    assert gate.lines() == [f"start {stopping.pid}"]


def test_sigterm_lets_the_task_under_way_finish(database, tmp_path, worker):
    gate = Gate(database, tmp_path)
    stopping = worker("--grace", "60")
    wait_for("the worker to start the task", lambda: gate.lines())
    stopping.terminate()
    gate.gate.touch()
    assert stopping.wait(90) == 0
    assert gate.lines() == [f"start {stopping.pid}", f"end {stopping.pid}"]
    finished = gate.task()
    assert (finished.status, finished.attempts) == (TaskStatus.done, 1)
