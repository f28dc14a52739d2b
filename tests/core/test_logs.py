"""Structured logs: JSON lines carrying the request id (web) or the task (workers)."""

from __future__ import annotations

import io
import json
import logging
import sys
from datetime import UTC, datetime

import pytest

from service.core.logs import JsonFormatter, log_context
from service.jobs import registry
from service.jobs.queue import enqueue, run_pending

NOW = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)


@pytest.fixture
def lines():
    """Every line logged during the test, as the JSON the processes write."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter("web"))
    root = logging.getLogger()
    root.addHandler(handler)
    previous = root.level
    root.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in out.getvalue().splitlines()]
    root.removeHandler(handler)
    root.setLevel(previous)


def test_a_request_id_offered_is_answered_and_on_every_line(app, client, lines):
    @app.get("/test-log")
    def _logs():
        logging.getLogger("service.test").warning("inside %s", "the request")
        return "ok"

    response = client.get("/test-log", headers={"X-Request-ID": "ci-run-42.7"})
    assert response.headers["X-Request-ID"] == "ci-run-42.7"
    [line] = [entry for entry in lines() if entry["logger"] == "service.test"]
    assert {k: line[k] for k in ("level", "process", "message", "request_id")} == {
        "level": "WARNING",
        "process": "web",
        "message": "inside the request",
        "request_id": "ci-run-42.7",
    }
    logging.getLogger("service.test").warning("after it")
    assert "request_id" not in lines()[-1]


def test_an_odd_request_id_is_replaced_by_a_fresh_one(client):
    odd = client.get("/healthz", headers={"X-Request-ID": "two words\u2028and more"})
    made = odd.headers["X-Request-ID"]
    assert len(made) == 32 and int(made, 16) >= 0
    assert client.get("/healthz").headers["X-Request-ID"] != made


def test_a_tasks_lines_name_the_task(app, session, lines, monkeypatch, clock):
    def noisy(payload, _now):
        logging.getLogger("service.test").info("resolving %s", payload["n"])

    monkeypatch.setitem(registry.TASKS, "test.noisy", noisy)
    task = enqueue(session, "test.noisy", {"n": 3})
    session.commit()
    assert run_pending(app.extensions["tributary.db"], now=NOW) == 1
    mine = [entry for entry in lines() if entry.get("task_id") == task.id]
    assert [(e["message"], e["task_kind"], e["attempt"]) for e in mine] == [
        ("resolving 3", "test.noisy", 1),
        (f"task {task.id} (test.noisy) done", "test.noisy", 1),
    ]


def test_exceptions_and_context_nest():
    formatter = JsonFormatter("worker")
    with log_context(task_id=1), log_context(attempt=2):
        try:
            raise ValueError("bad row")
        except ValueError:
            record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), None)
            record.exc_info = sys.exc_info()
            entry = json.loads(formatter.format(record))
    assert (entry["task_id"], entry["attempt"], entry["process"]) == (1, 2, "worker")
    assert entry["exception"].endswith("ValueError: bad row")
