"""`tributary worker`: runs queued tasks until stopped, on any number of hosts at once.

Each thread claims one task at a time; one heartbeat renews the leases of every task the
process holds. On stop (SIGTERM, SIGINT) no new task is claimed; the tasks under way get
`grace` seconds to finish and whatever is still running then is released to the queue,
so another worker takes it at once instead of after its lease.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Collection
from datetime import timedelta

from flask import Flask

from service.core.services import get_settings
from service.db import get_db
from service.jobs.queue import Heartbeat, release, run_one, worker_name
from service.jobs.registry import load_job_modules

log = logging.getLogger(__name__)
POLL_SECONDS = 2.0


class Worker:
    def __init__(
        self,
        app: Flask,
        *,
        threads: int = 1,
        kinds: Collection[str] | None = None,
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        settings = get_settings(app)
        self.app = app
        self.database = get_db(app)
        self.name = worker_name()
        self.lease = timedelta(seconds=settings.task_lease_seconds)
        self.threads = threads
        self.kinds = list(kinds) if kinds else None
        self.poll_seconds = poll_seconds
        self.stopping = threading.Event()

    def serve(self, grace: float = 30.0) -> None:
        """Run tasks until `stop()`; then finish or release the ones under way."""
        load_job_modules()
        kinds = ", ".join(self.kinds) if self.kinds else "every kind"
        log.info("worker %s started: %d thread(s), %s", self.name, self.threads, kinds)
        with Heartbeat(self.database, self.lease) as heartbeat:
            loops = [
                threading.Thread(target=self._loop, args=(heartbeat,), name=f"worker-{n}")
                for n in range(self.threads)
            ]
            for loop in loops:
                loop.daemon = True  # a thread still busy after the grace must not keep us
                loop.start()
            while not self.stopping.wait(1.0):
                pass
            deadline = time.monotonic() + grace
            for loop in loops:
                loop.join(max(0.0, deadline - time.monotonic()))
            unfinished = heartbeat.held()
            if unfinished:
                release(self.database, unfinished)
                log.warning(
                    "worker %s released %d unfinished task(s): %s",
                    self.name,
                    len(unfinished),
                    ", ".join(f"{c.id} ({c.kind})" for c in unfinished),
                )
        log.info("worker %s stopped", self.name)

    def stop(self) -> None:
        self.stopping.set()

    def _loop(self, heartbeat: Heartbeat) -> None:
        while not self.stopping.is_set():
            try:
                with self.app.app_context():
                    ran = run_one(self.database, heartbeat, self.name, kinds=self.kinds)
            except Exception:  # the database is away: wait, then claim again
                log.exception("worker %s could not reach the queue", self.name)
                ran = None
            if ran is None:
                self.stopping.wait(self.poll_seconds)
