"""One request per package and source at a time, across every process on the database.

Before a resolver run asks a source about a package (or a repository), it leases
(source, key) in ``fetch_leases``. Another run that wants the same answer meanwhile waits
for it: it reads the metadata cache until the answer is there, instead of asking too. The
holder gives the lease back in the transaction that stores the answer, so a waiter that
sees the lease gone sees the answer with it. A holder renews its leases while it works;
one that dies loses them when they run out, and a waiter takes over. A waiter that has
waited ``max_wait`` seconds for a holder still alive asks itself (the wait is bounded).

:class:`FetchGate` is what a run holds: it takes the leases of the fetches wanted so far
in one statement, tells each fetch to go ahead (``won``) or, once another run has stored
the answer, hands it over (``answered``). Times are epoch seconds from the caller's clock.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass

from sqlalchemy import delete, tuple_, update
from sqlmodel import Session, col, select

from service.db import Database, insert_for
from service.projects import cache
from service.projects.cache import CacheRow
from service.projects.models import FetchLease, as_utc

Pair = tuple[str, str]  # (source, key), as in the metadata cache


def take(
    session: Session, pairs: Iterable[Pair], holder: str, now: float, until: float
) -> set[Pair]:
    """Lease the pairs nobody holds, and those whose lease ran out by ``now``; returns the
    ones ``holder`` holds afterwards. A live lease of another run is neither locked nor
    waited for (its holder frees it in its own transactions), so runs never deadlock."""
    wanted = sorted(set(pairs))
    table = FetchLease.__table__
    for chunk in cache._chunks(wanted, 500):
        rows = [{"source": s, "key": k, "holder": holder, "until": until} for s, k in chunk]
        session.exec(insert_for(session)(table).on_conflict_do_nothing(), params=rows)
        session.exec(
            update(FetchLease)
            .where(
                tuple_(col(FetchLease.source), col(FetchLease.key)).in_(chunk),
                col(FetchLease.until) < now,
            )
            .values(holder=holder, until=until)
        )
    return {pair for pair, who in holders(session, wanted, now).items() if who == holder}


def holders(session: Session, pairs: Collection[Pair], now: float) -> dict[Pair, str]:
    """Who holds a live lease on each of these pairs (those leased)."""
    found: dict[Pair, str] = {}
    for chunk in cache._chunks(list(pairs)):
        rows = session.exec(
            select(FetchLease.source, FetchLease.key, FetchLease.holder).where(
                tuple_(col(FetchLease.source), col(FetchLease.key)).in_(chunk),
                col(FetchLease.until) >= now,
            )
        )
        found.update({(source, key): who for source, key, who in rows})
    return found


def renew(session: Session, holder: str, until: float) -> None:
    session.exec(update(FetchLease).where(col(FetchLease.holder) == holder).values(until=until))


def give_back(session: Session, holder: str, pairs: Collection[Pair] | None = None) -> None:
    """Free these leases of ``holder`` (all of them without ``pairs``)."""
    mine = delete(FetchLease).where(col(FetchLease.holder) == holder)
    if pairs is None:
        session.exec(mine)
        return
    for chunk in cache._chunks(list(pairs)):
        session.exec(mine.where(tuple_(col(FetchLease.source), col(FetchLease.key)).in_(chunk)))


def answered(seen: CacheRow | None, row: CacheRow | None) -> bool:
    """Whether ``row`` holds an answer stored since the fetch was planned on ``seen``."""
    if row is None:
        return False
    return seen is None or as_utc(row.updated_at) != as_utc(seen.updated_at)


def holder_name() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


@dataclass
class _Want:
    pair: Pair
    seen: CacheRow | None  # the cache row the fetch was planned on
    won: Callable[[], None]  # go ahead and ask
    answered: Callable[[CacheRow], None]  # another run stored this answer
    since: float = 0.0  # when it began to wait


class FetchGate:
    """The leases of one resolver run (see the module docstring). Called from one thread."""

    def __init__(
        self,
        database: Database,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        lease: float = 60.0,
        poll: float = 0.2,
        batch: int = 100,
        max_wait: float = 600.0,
    ) -> None:
        self.database = database
        self.holder = holder_name()
        self.poll = poll
        self._clock, self._sleep = clock, sleep
        self._lease, self._batch, self._max_wait = lease, batch, max_wait
        self._wanted: list[_Want] = []
        self._waiting: dict[Pair, list[_Want]] = {}
        self._wanted_at = self._checked_at = self._renewed_at = clock()
        self._leased = False  # whether this run ever took a lease (else nothing to free)

    @property
    def busy(self) -> bool:
        return bool(self._wanted or self._waiting)

    def want(
        self,
        pair: Pair,
        seen: CacheRow | None,
        won: Callable[[], None],
        on_answer: Callable[[CacheRow], None],
    ) -> None:
        if not self._wanted:
            self._wanted_at = self._clock()
        self._wanted.append(_Want(pair, seen, won, on_answer))

    def step(self, *, idle: bool) -> None:
        """Lease what is wanted (at once when the run has nothing else to do, else in
        batches), look at what waits every ``poll`` seconds, renew the leases held."""
        now = self._clock()
        if self._wanted and (
            idle or len(self._wanted) >= self._batch or now - self._wanted_at >= self.poll
        ):
            wanted, self._wanted = self._wanted, []
            self._lease_for(wanted)
        if self._waiting and (now - self._checked_at >= self.poll):
            self._check()
        if self._leased and now - self._renewed_at >= self._lease / 3:
            self._renewed_at = now
            with self.database.transaction() as session:
                renew(session, self.holder, now + self._lease)

    def pause(self) -> None:
        """Nothing to do but wait for other runs' answers."""
        self._sleep(self.poll)

    def give_back(self, session: Session, pairs: Collection[Pair]) -> None:
        """In the transaction that stores these pairs' answers."""
        give_back(session, self.holder, pairs)

    def close(self) -> None:
        if not self._leased:
            return
        with self.database.transaction() as session:
            give_back(session, self.holder)

    def _lease_for(self, wanted: list[_Want]) -> None:
        now = self._clock()
        self._leased = True
        with self.database.transaction() as session:
            held = take(session, [w.pair for w in wanted], self.holder, now, now + self._lease)
            # An answer stored between planning and leasing: use it, do not ask again.
            rows = cache.load(session, [w.pair for w in wanted if w.pair in held])
            stored = {w.pair for w in wanted if answered(w.seen, rows.get(w.pair))}
            give_back(session, self.holder, stored)
        for want in wanted:
            if want.pair in stored:
                want.answered(rows[want.pair])
            elif want.pair in held:
                want.won()
            else:
                want.since = want.since or now
                self._waiting.setdefault(want.pair, []).append(want)

    def _check(self) -> None:
        """Hand over the answers stored meanwhile; lease again what nobody holds any more
        (its holder died or gave up) or waited too long."""
        now = self._checked_at = self._clock()
        pairs = list(self._waiting)
        with self.database.transaction() as session:
            busy = holders(
                session, pairs, now
            )  # before the rows: a lease gone means its answer is there
            rows = cache.load(session, pairs)
        retry: list[_Want] = []
        for pair in pairs:
            row = rows.get(pair)
            waiting = self._waiting[pair]
            if answered(waiting[0].seen, row):
                del self._waiting[pair]
                for want in waiting:
                    want.answered(row)  # type: ignore[arg-type]
            elif pair not in busy:
                retry += self._waiting.pop(pair)
            elif now - waiting[0].since >= self._max_wait:
                for want in self._waiting.pop(pair):
                    want.won()
        if retry:
            self._lease_for(retry)
