"""Outbound pauses shared through the database, for processes without Redis.

:class:`DatabaseLimits` keeps the pauses (a 429's ``Retry-After``, GitHub's exhausted
quota) in the ``outbound_pauses`` table, so every process on the same database honours a
pause one of them was told. Slots and spacing stay per process (a :class:`LocalLimits`):
keeping them in the database would cost a write per request; Redis shares those too.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy import Engine, delete
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select

from service.core.models import OutboundPause
from service.core.outbound_limits import LocalLimits
from service.db import insert_for

log = logging.getLogger(__name__)


class DatabaseLimits:
    """Slots and spacing in this process, pauses in the database.

    The pauses are read at most once per ``ttl`` seconds (all of them, in one query: a
    handful of rows), so a loop of requests does not query per request; a pause another
    process announces is honoured that much later at most, one this process announces at
    once. A database that fails to answer means no pause but this process's own, logged:
    a fetch is never failed for it. A row that outlives its pause stays (one per key at
    most) and is skipped by the reads."""

    def __init__(
        self,
        engine: Engine,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
        *,
        ttl: float = 1.0,
    ) -> None:
        self._engine = engine
        self._clock = clock
        self._ttl = ttl
        self._local = LocalLimits(clock, sleep)
        self._lock = threading.Lock()
        self._shared: dict[str, float] = {}
        self._read_at: float | None = None

    def acquire(self, key: str, limit: int, interval: float) -> str:
        return self._local.acquire(key, limit, interval)

    def release(self, key: str, token: str) -> None:
        self._local.release(key, token)

    def pause(self, key: str, until: float) -> None:
        self._local.pause(key, until)
        try:
            with Session(self._engine) as session, session.begin():
                statement = insert_for(session)(OutboundPause).values(key=key, until=until)
                statement = statement.on_conflict_do_update(
                    index_elements=[col(OutboundPause.key)],
                    set_={"until": statement.excluded.until},
                    where=col(OutboundPause.until) < statement.excluded.until,  # a later pause wins
                )
                session.exec(statement)
        except SQLAlchemyError as exc:
            log.warning("outbound pause of %s kept in this process only: %s", key, exc)

    def paused_until(self, key: str) -> float | None:
        known = (self._read().get(key), self._local.paused_until(key))
        return max((until for until in known if until is not None), default=None)

    def resume(self, key: str, until: float) -> None:
        self._local.resume(key, until)
        try:
            with Session(self._engine) as session, session.begin():
                session.exec(
                    delete(OutboundPause).where(
                        col(OutboundPause.key) == key, col(OutboundPause.until) <= until
                    )
                )
        except SQLAlchemyError as exc:
            log.warning("outbound pause of %s not lifted for other processes: %s", key, exc)
        with self._lock:
            if self._shared.get(key, until) <= until:
                self._shared.pop(key, None)

    def _read(self) -> dict[str, float]:
        """The pauses still running, as read at most ``ttl`` seconds ago."""
        with self._lock:
            now = self._clock()
            if self._read_at is not None and self._read_at <= now < self._read_at + self._ttl:
                return self._shared
            try:
                with Session(self._engine) as session:
                    rows = session.exec(
                        select(OutboundPause.key, OutboundPause.until).where(
                            col(OutboundPause.until) > now
                        )
                    )
                    self._shared = {key: until for key, until in rows}
            except SQLAlchemyError as exc:
                log.warning(
                    "outbound pauses of other processes unknown until the next read: %s", exc
                )
                self._shared = {}
            self._read_at = now
            return self._shared
