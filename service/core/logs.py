"""Structured logs: one JSON object a line, for the web, the scheduler and the workers.

Lines carry the context they were logged in: the request id while the web serves a
request (taken from `X-Request-ID` when it is a plain token, else made, and answered in
the same header), the task id, kind and attempt while a worker runs a task.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from flask import Flask, g, request

LOG_CONTEXT: ContextVar[dict[str, Any] | None] = ContextVar("log_context", default=None)
REQUEST_ID_HEADER = "X-Request-ID"
_PLAIN_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


@contextmanager
def log_context(**fields: Any) -> Iterator[None]:
    """Put `fields` on every line logged inside the block (in this thread)."""
    token = LOG_CONTEXT.set({**(LOG_CONTEXT.get() or {}), **fields})
    try:
        yield
    finally:
        LOG_CONTEXT.reset(token)


class JsonFormatter(logging.Formatter):
    def __init__(self, process: str) -> None:
        super().__init__()
        self.process = process

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            # When the line was written (the log's own time, not the service's clock).
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "process": self.process,
            "pid": record.process,
            "message": record.getMessage(),
            **(LOG_CONTEXT.get() or {}),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(process: str, level: int = logging.INFO) -> None:
    """Send every logger's lines to stderr as JSON, naming the process ("web", "worker").

    Replaces plain stderr handlers (Python's default, an earlier call's) and keeps any
    other handler the host process installed, such as a test run's log capture.
    """
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter(process))
    root = logging.getLogger()
    kept = [h for h in root.handlers if type(h) is not logging.StreamHandler]
    root.handlers = [*kept, handler]
    root.setLevel(level)


def init_request_ids(app: Flask) -> None:
    """Give every request an id, on its log lines and in its answer."""

    @app.before_request
    def _take_request_id() -> None:
        offered = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_id = offered if _PLAIN_ID.fullmatch(offered) else uuid.uuid4().hex
        g.log_context = LOG_CONTEXT.set({"request_id": g.request_id})

    @app.after_request
    def _answer_request_id(response):
        if "request_id" in g:
            response.headers[REQUEST_ID_HEADER] = g.request_id
        return response

    @app.teardown_request
    def _forget_request_id(_exc) -> None:
        token = g.pop("log_context", None)
        if token is not None:
            LOG_CONTEXT.reset(token)
