"""Prometheus metrics, scraped at /metrics with the bearer token of a setting.

Two kinds:

- counted in the process: requests and latencies by route, the database connections the
  process holds, outbound requests and their answers by source (counted where they are
  made, service.core.http). With several processes
  on a host (gunicorn workers, the worker and scheduler processes) set
  ``PROMETHEUS_MULTIPROC_DIR`` to one empty directory for all of them (scripts/serve.sh
  does): each process writes its figures there and a scrape of any web process adds
  them all up. Each host is scraped on its own.
- read from the database at scrape time, the same from any process on any host: tasks by
  kind and status (the queue's depth; done and failed are the outcomes) and each
  periodic job's last run. Domains register these readers (`add_database_reader`).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable

from flask import Flask, current_app, g, request
from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine, event
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

REQUESTS = Counter(
    "tributary_http_requests_total",
    "Requests answered, by route template, method and status",
    ["route", "method", "status"],
)
LATENCY = Histogram(
    "tributary_http_request_duration_seconds",
    "Time to answer a request, by route template and method",
    ["route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
POOL_IN_USE = Gauge(
    "tributary_db_connections_in_use",
    "Database connections checked out of the processes' pools",
    multiprocess_mode="livesum",
)
POOL_CAPACITY = Gauge(
    "tributary_db_pool_capacity",
    "Connections the processes' pools may hold (size plus overflow)",
    multiprocess_mode="livesum",
)

DatabaseReader = Callable[[Session], Iterable[Metric]]
_READERS = "tributary.metrics_readers"


def watch_pool(engine: Engine, capacity: int) -> None:
    """Count the connections `engine`'s pool hands out and takes back."""
    POOL_CAPACITY.inc(capacity)
    event.listen(engine, "checkout", lambda *_: POOL_IN_USE.inc())
    event.listen(engine, "checkin", lambda *_: POOL_IN_USE.dec())


def add_database_reader(app: Flask, reader: DatabaseReader) -> None:
    app.extensions.setdefault(_READERS, []).append(reader)


def init_request_metrics(app: Flask) -> None:
    @app.before_request
    def _start_clock() -> None:
        g.metrics_started = time.perf_counter()

    @app.after_request
    def _count(response):
        started = g.pop("metrics_started", None)
        if started is not None:
            route = request.url_rule.rule if request.url_rule else "unmatched"
            REQUESTS.labels(route, request.method, str(response.status_code)).inc()
            LATENCY.labels(route, request.method).observe(time.perf_counter() - started)
        return response


def process_registry() -> CollectorRegistry:
    """This process's figures, or every process's of the host in multi-process mode."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    processes = CollectorRegistry()
    multiprocess.MultiProcessCollector(processes)  # type: ignore[no-untyped-call]
    return processes


def exposition(session: Session) -> bytes:
    """The metrics text: the processes' own figures, then the database's."""
    processes = process_registry()
    from_database = CollectorRegistry(auto_describe=False)
    from_database.register(_DatabaseCollector(session, current_app.extensions.get(_READERS, [])))
    return generate_latest(processes) + generate_latest(from_database)


class _DatabaseCollector(Collector):
    def __init__(self, session: Session, readers: list[DatabaseReader]) -> None:
        self.session, self.readers = session, readers

    def collect(self) -> Iterable[Metric]:
        up = GaugeMetricFamily(
            "tributary_metrics_database_up", "Whether the database answered this scrape"
        )
        try:
            families = [family for reader in self.readers for family in reader(self.session)]
        except SQLAlchemyError:  # the process figures are still worth a scrape
            self.session.rollback()
            up.add_metric([], 0)
            return [up]
        up.add_metric([], 1)
        return [*families, up]
