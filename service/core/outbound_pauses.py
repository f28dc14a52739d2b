"""Outbound limits shared through the database, for processes without Redis.

:class:`DatabaseLimits` keeps the pauses (a 429's ``Retry-After``, GitHub's exhausted
quota) in the ``outbound_pauses`` table, so every process on the same database honours a
pause one of them was told, and the slots and spacing in ``outbound_slots`` and
``outbound_spacing``, so the processes together keep a host's limit of requests in flight
and a source's spacing (one statement to take a slot, one to free it, one more for a
spacing). A process's own threads queue in this process first (a :class:`LocalLimits`),
so only those that could start now ask the database. While its slots are all taken, one
of them polls it and the others wait: a slot freed in this process goes straight to one
of them (its lease renewed to it) instead of back to the database, where it would sit
idle until the next poll. A slot is a lease: a process that dies holding one frees it
by itself.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Engine, case, delete, update
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select

from service.core.models import OutboundPause, OutboundSlot, OutboundSpacing
from service.core.outbound_limits import LocalLimits
from service.db import insert_for

log = logging.getLogger(__name__)


@dataclass
class _Waiters:
    """This process's threads waiting for a slot of one key."""

    count: int = 0  # waiting, the polling one included
    polling: bool = False
    handing: int = 0  # slots being handed over (their leases renewed)
    handed: list[str] = field(default_factory=list)  # tokens handed over, not taken yet
    changed: threading.Condition = field(default_factory=threading.Condition)

    def idle(self) -> int:
        """Waiting, not polling, no slot handed to them yet; under ``changed``."""
        return self.count - int(self.polling) - len(self.handed) - self.handing

    def surplus(self) -> list[str]:
        """Handed tokens nobody waits for any more (to free); under ``changed``."""
        extra = len(self.handed) - self.count
        if extra <= 0:
            return []
        taken, self.handed = self.handed[:extra], self.handed[extra:]
        return taken


class DatabaseLimits:
    """Slots, spacing and pauses in the database (see the module docstring).

    A database that fails to take or free a slot means this process's own limits only,
    logged: a fetch is never failed for it. The pauses are read at most once per ``ttl``
    seconds (all of them, in one query: a handful of rows), so a loop of requests does
    not query per request; a pause another process announces is honoured that much later
    at most, one this process announces at once. A database that fails to answer means no
    pause but this process's own, logged. A row that outlives its pause stays (one per
    key at most) and is skipped by the reads."""

    def __init__(
        self,
        engine: Engine,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
        *,
        ttl: float = 1.0,
        lease: float = 120.0,
        poll: float = 0.05,
    ) -> None:
        self._engine = engine
        self._clock, self._sleep = clock, sleep
        self._ttl, self._lease, self._poll = ttl, lease, poll
        self._local = LocalLimits(clock, sleep)
        self._lock = threading.Lock()
        self._shared: dict[str, float] = {}
        self._read_at: float | None = None
        self._slots: set[tuple[str, int]] = set()  # (key, limit) whose slot rows exist
        self._waiters: dict[str, _Waiters] = {}

    def acquire(self, key: str, limit: int, interval: float) -> str:
        self._local.acquire(key, limit, interval)
        try:
            token = self._take_slot(key, limit)
            if interval > 0:
                self._space(key, interval)
        except SQLAlchemyError as exc:
            log.warning("outbound slot of %s taken in this process only: %s", key, exc)
            return ""
        return token

    def release(self, key: str, token: str) -> None:
        try:
            if token and not self._hand_over(key, token):
                self._free(key, token)
        except SQLAlchemyError as exc:
            log.warning("outbound slot of %s left to its lease: %s", key, exc)
        finally:
            self._local.release(key, token)

    def _free(self, key: str, token: str) -> None:
        slot, _, mine = token.partition(":")
        with Session(self._engine) as session, session.begin():
            session.exec(
                update(OutboundSlot)
                .where(
                    col(OutboundSlot.key) == key,
                    col(OutboundSlot.slot) == int(slot),
                    col(OutboundSlot.token) == mine,
                )
                .values(token=None, until=0.0)
            )

    def _hand_over(self, key: str, token: str) -> bool:
        """Give the slot to a thread of this process that waits (not the polling one,
        which sleeps), its lease renewed to a new token; False when none waits."""
        waiters = self._waiters_of(key)
        with waiters.changed:
            if waiters.idle() <= 0:
                return False
            waiters.handing += 1
        handed = None
        try:
            slot, _, mine = token.partition(":")
            renewed = uuid.uuid4().hex
            with Session(self._engine) as session, session.begin():
                kept = session.exec(
                    update(OutboundSlot)
                    .where(
                        col(OutboundSlot.key) == key,
                        col(OutboundSlot.slot) == int(slot),
                        col(OutboundSlot.token) == mine,
                    )
                    .values(token=renewed, until=self._clock() + self._lease)
                    .returning(col(OutboundSlot.slot))
                ).scalar()
            handed = f"{slot}:{renewed}" if kept is not None else None
        finally:
            with waiters.changed:
                waiters.handing -= 1
                if handed is not None:
                    waiters.handed.append(handed)
                    waiters.changed.notify_all()
                extra = waiters.surplus()
            for spare in extra:
                self._free(key, spare)
        return handed is not None

    def _waiters_of(self, key: str) -> _Waiters:
        with self._lock:
            return self._waiters.setdefault(key, _Waiters())

    def _take_slot(self, key: str, limit: int) -> str:
        """A free slot of ``key`` (its lease run out), waiting while all are taken; returns
        "slot:token". Locked rows are skipped, so two processes never take the same one."""
        if (key, limit) not in self._slots:
            with Session(self._engine) as session, session.begin():
                rows = [{"key": key, "slot": n, "until": 0.0} for n in range(limit)]
                session.exec(
                    insert_for(session)(OutboundSlot).on_conflict_do_nothing(), params=rows
                )
            self._slots.add((key, limit))
        waiters = self._waiters_of(key)
        with waiters.changed:
            waiters.count += 1
        try:
            return self._wait_for_slot(key, limit, waiters)
        finally:
            with waiters.changed:
                waiters.count -= 1
                extra = waiters.surplus()
            for spare in extra:
                self._free(key, spare)

    def _wait_for_slot(self, key: str, limit: int, waiters: _Waiters) -> str:
        """One waiting thread polls the database; the others wait for it to stop or for
        a slot handed over."""
        token = uuid.uuid4().hex
        while True:
            with waiters.changed:
                while waiters.polling and not waiters.handed:
                    waiters.changed.wait()
                if waiters.handed:
                    return waiters.handed.pop(0)
                waiters.polling = True
            try:
                taken = self._try_slot(key, limit, token)
                if taken is None:
                    self._sleep(self._poll)
            finally:
                with waiters.changed:
                    waiters.polling = False
                    waiters.changed.notify_all()
            if taken is not None:
                return taken

    def _try_slot(self, key: str, limit: int, token: str) -> str | None:
        now = self._clock()
        free = (
            select(OutboundSlot.slot)
            .where(
                col(OutboundSlot.key) == key,
                col(OutboundSlot.slot) < limit,
                col(OutboundSlot.until) < now,
            )
            .order_by(col(OutboundSlot.slot))
            .limit(1)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        with Session(self._engine) as session, session.begin():
            taken = session.exec(
                update(OutboundSlot)
                .where(col(OutboundSlot.key) == key, col(OutboundSlot.slot) == free)
                .values(token=token, until=now + self._lease)
                .returning(col(OutboundSlot.slot))
            ).scalar()
        return f"{taken}:{token}" if taken is not None else None

    def _space(self, key: str, interval: float) -> None:
        """Wait for this request's turn: ``interval`` after the start of the last one any
        process sent to ``key``."""
        now = self._clock()
        with Session(self._engine) as session, session.begin():
            statement = insert_for(session)(OutboundSpacing).values(
                key=key, next_start=now + interval
            )
            current = col(OutboundSpacing.next_start)
            statement = statement.on_conflict_do_update(
                index_elements=[col(OutboundSpacing.key)],
                set_={"next_start": case((current > now, current), else_=now) + interval},
            ).returning(current)
            next_start = session.exec(statement).scalar_one()
        wait = next_start - interval - now
        if wait > 0:
            self._sleep(wait)

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
