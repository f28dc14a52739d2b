"""Parent POMs kept in the database, so every process reads a released one once.

The Maven provider asks :class:`StoredParentPoms` before it asks the repository, and
stores what it read. A parent not stored yet is leased (``fetch_leases``, as any fetch)
by the thread that will ask for it; another thread, of this process or another, that
climbs to it meanwhile waits for what the first stores instead of asking too (at most
``max_wait`` seconds; a lease of a process that died runs out). It runs on the fetch
threads, each read and write in a session of its own; a database that fails means
asking the repository, logged: a fetch is never failed for it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from sqlalchemy.exc import SQLAlchemyError

from service.db import Database, insert_for
from service.projects import fetch_leases
from service.projects.models import MavenParentPom

log = logging.getLogger(__name__)
SOURCE = "maven-parent"  # the leases' source


def _pair(coordinates: str) -> tuple[str, str]:
    return SOURCE, coordinates[:500]


class StoredParentPoms:
    def __init__(
        self,
        database: Database,
        *,
        clock: Callable[[], float] = time.time,
        lease: float = 60.0,
        poll: float = 0.05,
        max_wait: float = 30.0,
    ) -> None:
        self.database = database
        self.holder = fetch_leases.holder_name()
        self._clock, self._lease, self._poll, self._max_wait = clock, lease, poll, max_wait
        self._lock = threading.Lock()
        self._asking: dict[str, threading.Event] = {}  # leased by a thread of this process

    def get(self, coordinates: str) -> bytes | None:
        """The stored POM; else None once the caller is the one to ask for it (it then
        calls :meth:`put` or :meth:`drop`)."""
        deadline = self._clock() + self._max_wait
        try:
            while True:
                with self.database.session() as session:
                    row = session.get(MavenParentPom, coordinates)
                    if row is not None:
                        return bytes(row.pom)
                body, asking = self._lease_or_wait(coordinates)
                if body is not None or asking is None or self._clock() >= deadline:
                    return body
                asking.wait(self._poll)
        except SQLAlchemyError as exc:
            log.warning("parent POM %s not read from the database: %s", coordinates, exc)
            return None

    def put(self, coordinates: str, pom: bytes) -> None:
        try:
            with self.database.transaction() as session:
                if len(coordinates) <= 500:
                    statement = insert_for(session)(MavenParentPom).values(
                        coordinates=coordinates, pom=pom
                    )
                    session.exec(statement.on_conflict_do_nothing())
                fetch_leases.give_back(session, self.holder, [_pair(coordinates)])
        except SQLAlchemyError as exc:
            log.warning("parent POM %s not kept in the database: %s", coordinates, exc)
        self._done(coordinates)

    def drop(self, coordinates: str) -> None:
        """The caller's request failed: another may ask."""
        try:
            with self.database.transaction() as session:
                fetch_leases.give_back(session, self.holder, [_pair(coordinates)])
        except SQLAlchemyError as exc:
            log.warning("parent POM %s lease not given back: %s", coordinates, exc)
        self._done(coordinates)

    def _lease_or_wait(self, coordinates: str) -> tuple[bytes | None, threading.Event | None]:
        """The POM stored by a holder that just gave its lease back; else nothing to wait
        on when this thread now holds the lease, or what to wait on."""
        with self._lock:
            if coordinates in self._asking:
                return None, self._asking[coordinates]
            now = self._clock()
            pair = _pair(coordinates)
            with self.database.transaction() as session:
                held = fetch_leases.take(session, [pair], self.holder, now, now + self._lease)
                row = session.get(MavenParentPom, coordinates) if pair in held else None
                if row is not None:
                    fetch_leases.give_back(session, self.holder, [pair])
                    return bytes(row.pom), None
            if pair not in held:
                return None, threading.Event()  # another process asks: poll for its answer
            self._asking[coordinates] = threading.Event()
            return None, None

    def _done(self, coordinates: str) -> None:
        with self._lock:
            asking = self._asking.pop(coordinates, None)
        if asking is not None:
            asking.set()
