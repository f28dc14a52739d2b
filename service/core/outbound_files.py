"""Outbound slots and spacing shared through lock files, for the processes of one machine.

SQLite serves the processes of one machine, and a write beside a caller's own write
transaction would wait for its lock, so :class:`FileLimits` keeps the slots and spacing
of the processes on one SQLite database in files beside it instead: a slot is an
exclusive ``flock`` on one of ``limit`` files per limit key (the kernel frees it when
its process dies), the spacing the next start time in a file read and written under
its lock. A process's own threads queue in the process first (a :class:`LocalLimits`),
so only those that could start now try the files, which they poll while all are taken.
Pauses stay in this process. A file that cannot be opened means this process's own
limits only, logged: a fetch is never failed for it.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import threading
import uuid
from collections.abc import Callable
from pathlib import Path

from service.core.outbound_limits import LocalLimits

log = logging.getLogger(__name__)


class FileLimits:
    def __init__(
        self,
        directory: Path,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
        *,
        poll: float = 0.05,
    ) -> None:
        self._directory = directory
        self._clock, self._sleep, self._poll = clock, sleep, poll
        self._local = LocalLimits(clock, sleep)
        self._lock = threading.Lock()
        self._held: dict[str, int] = {}  # token → the locked file's descriptor

    def acquire(self, key: str, limit: int, interval: float) -> str:
        self._local.acquire(key, limit, interval)
        try:
            token = self._take_slot(key, limit)
            if interval > 0:
                self._space(key, interval)
        except OSError as exc:
            log.warning("outbound slot of %s taken in this process only: %s", key, exc)
            return ""
        return token

    def release(self, key: str, token: str) -> None:
        with self._lock:
            fd = self._held.pop(token, None)
        if fd is not None:
            os.close(fd)  # closing the file frees its lock
        self._local.release(key, token)

    def pause(self, key: str, until: float) -> None:
        self._local.pause(key, until)

    def paused_until(self, key: str) -> float | None:
        return self._local.paused_until(key)

    def resume(self, key: str, until: float) -> None:
        self._local.resume(key, until)

    def _open(self, key: str, name: str) -> int:
        self._directory.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256(key.encode()).hexdigest()[:32]  # any key, a safe file name
        return os.open(self._directory / f"{digest}.{name}", os.O_RDWR | os.O_CREAT, 0o600)

    def _take_slot(self, key: str, limit: int) -> str:
        while True:
            for slot in range(limit):
                fd = self._open(key, f"slot{slot}")
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    os.close(fd)
                    continue
                token = f"{slot}:{uuid.uuid4().hex}"
                with self._lock:
                    self._held[token] = fd
                return token
            self._sleep(self._poll)

    def _space(self, key: str, interval: float) -> None:
        """Wait for this request's turn: ``interval`` after the start of the last one any
        process on this machine sent to ``key``."""
        fd = self._open(key, "next")
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            now = self._clock()
            try:
                start = max(now, float(os.pread(fd, 64, 0) or 0))
            except ValueError:  # a file cut short by a crash: no spacing known
                start = now
            os.ftruncate(fd, 0)
            os.pwrite(fd, repr(start + interval).encode(), 0)
        finally:
            os.close(fd)
        if start > now:
            self._sleep(start - now)
