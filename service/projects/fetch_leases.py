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

from sqlalchemy import delete, func, tuple_, update
from sqlmodel import Session, col, select

from service.db import Database, insert_for
from service.projects import cache
from service.projects.cache import CacheRow
from service.projects.models import FetchLease, as_utc

Pair = tuple[str, str]  # (source, key), as in the metadata cache
# Held by a run while it waits for another's fetch: when that answer comes, the run may
# want more lookups, so other runs keep their partial batches open for it meanwhile.
WAITING = "run:waiting"


def take(
    session: Session,
    pairs: Iterable[Pair],
    holder: str,
    now: float,
    until: float,
    *,
    queued: bool = False,
) -> set[Pair]:
    """Lease the pairs nobody holds, and those whose lease ran out by ``now``; returns the
    ones ``holder`` holds afterwards. A live lease of another run is neither locked nor
    waited for (its holder frees it in its own transactions), so runs never deadlock.
    ``queued``: leased for a batch not sent yet (see :func:`claim`)."""
    wanted = sorted(set(pairs))
    table = FetchLease.__table__
    for chunk in cache._chunks(wanted, 500):
        rows = [
            {"source": s, "key": k, "holder": holder, "until": until, "queued": queued}
            for s, k in chunk
        ]
        session.exec(insert_for(session)(table).on_conflict_do_nothing(), params=rows)
        session.exec(
            update(FetchLease)
            .where(
                tuple_(col(FetchLease.source), col(FetchLease.key)).in_(chunk),
                col(FetchLease.until) < now,
            )
            .values(holder=holder, until=until, queued=queued)
        )
    return {pair for pair, who in holders(session, wanted, now).items() if who == holder}


def claim(
    session: Session, source: str, keys: Collection[str], holder: str, now: float, limit: int
) -> tuple[set[str], set[str]]:
    """A batch about to be sent: of these keys, queued by ``holder``, the ones it still
    holds (``kept``), then other runs' queued keys of the source up to ``limit`` in all
    (``taken``); all of them are no longer queued. Claims of one source take turns, so
    two runs never take the same key or each other's keys at once."""
    if session.get_bind().dialect.name == "postgresql":  # SQLite serializes writers
        session.exec(select(func.pg_advisory_xact_lock(func.hashtext(f"fetch_leases:{source}"))))
    of_source = col(FetchLease.source) == source
    kept: set[str] = set()
    for chunk in cache._chunks(sorted(keys)):
        mine = (of_source, col(FetchLease.holder) == holder, col(FetchLease.key).in_(chunk))
        session.exec(update(FetchLease).where(*mine).values(queued=False))
        kept.update(session.exec(select(FetchLease.key).where(*mine)))
    if len(kept) >= limit:
        return kept, set()
    others = (of_source, col(FetchLease.queued), col(FetchLease.holder) != holder)
    live = col(FetchLease.until) >= now
    found = session.exec(
        select(FetchLease.key).where(*others, live).order_by(col(FetchLease.key))
    ).all()
    taken: set[str] = set()
    for chunk in cache._chunks(found[: limit - len(kept)]):
        session.exec(
            update(FetchLease)
            .where(*others, live, col(FetchLease.key).in_(chunk))
            .values(holder=holder, queued=False)
        )
        mine = (of_source, col(FetchLease.holder) == holder, col(FetchLease.key).in_(chunk))
        taken.update(session.exec(select(FetchLease.key).where(*mine)))
    return kept, taken


def others_leases(session: Session, holder: str, now: float) -> set[bool]:
    """Which live leases other runs hold: ``False`` among them when one is on a fetch it
    is making (its answer may want lookups a batch could take), ``True`` when one is only
    queued for a batch; empty when no other run holds any."""
    kinds = select(FetchLease.queued).where(
        col(FetchLease.holder) != holder, col(FetchLease.until) >= now
    )
    return set(session.exec(kinds.distinct()))


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
    batched: bool = False  # asked in a batch that other runs may take it into


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
        self._queued: dict[Pair, _Want] = {}  # leased for a batch not sent yet
        self._wanted_at = self._checked_at = self._renewed_at = clock()
        self._leased = False  # whether this run ever took a lease (else nothing to free)
        self._marked = False  # whether it holds its WAITING lease

    @property
    def busy(self) -> bool:
        return bool(self._wanted or self._waiting)

    def want(
        self,
        pair: Pair,
        seen: CacheRow | None,
        won: Callable[[], None],
        on_answer: Callable[[CacheRow], None],
        *,
        batched: bool = False,
    ) -> None:
        """``batched``: ``won`` queues the fetch for a batch, which :meth:`claim` sends."""
        if not self._wanted:
            self._wanted_at = self._clock()
        self._wanted.append(_Want(pair, seen, won, on_answer, batched=batched))

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

    def claim(
        self, source: str, keys: Collection[str], limit: int
    ) -> tuple[set[str], dict[str, CacheRow | None]]:
        """A batch of queued keys about to be sent: the ones this run still holds (any
        another run took wait for its answer instead), and up to ``limit`` in all with
        other runs' queued keys, returned with their cache rows."""
        leased = [key for key in keys if (source, key) in self._queued]
        unleased = {key for key in keys if (source, key) not in self._queued}  # a snapshot's
        if not leased:
            return unleased, {}
        now = self._clock()
        with self.database.transaction() as session:
            kept, taken = claim(session, source, leased, self.holder, now, limit)
            rows = cache.load(session, [(source, key) for key in taken])
        for key in leased:
            want = self._queued.pop((source, key))
            if key not in kept:
                want.since = now
                self._waiting.setdefault(want.pair, []).append(want)
        return kept | unleased, {key: rows.get((source, key)) for key in taken}

    def queued_any(self, source: str) -> bool:
        """Whether this run holds leases of ``source`` queued for a batch."""
        return any(pair[0] == source for pair in self._queued)

    def others_leases(self) -> set[bool]:
        with self.database.transaction() as session:
            return others_leases(session, self.holder, self._clock())

    def close(self) -> None:
        if not self._leased:
            return
        with self.database.transaction() as session:
            give_back(session, self.holder)

    def _lease_for(self, wanted: list[_Want]) -> None:
        now = self._clock()
        self._leased = True
        with self.database.transaction() as session:
            held: set[Pair] = set()
            for batched in (False, True):
                pairs = [w.pair for w in wanted if w.batched is batched]
                if pairs:
                    until = now + self._lease
                    held |= take(session, pairs, self.holder, now, until, queued=batched)
            # An answer stored between planning and leasing: use it, do not ask again.
            rows = cache.load(session, [w.pair for w in wanted if w.pair in held])
            stored = {w.pair for w in wanted if answered(w.seen, rows.get(w.pair))}
            give_back(session, self.holder, stored)
        for want in wanted:
            if want.pair in stored:
                want.answered(rows[want.pair])
            elif want.pair in held:
                if want.batched:
                    self._queued[want.pair] = want
                want.won()
            else:
                want.since = want.since or now
                self._waiting.setdefault(want.pair, []).append(want)
        self._mark_waiting(now)

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
        self._mark_waiting(now)

    def _mark_waiting(self, now: float) -> None:
        """Hold the WAITING lease while waiting for another run's fetch (not a lookup of
        a batch: its answer wants nothing more)."""
        waits = any(not w.batched for wants in self._waiting.values() for w in wants)
        if waits == self._marked:
            return
        pair = (WAITING, self.holder)
        with self.database.transaction() as session:
            if waits:
                take(session, [pair], self.holder, now, now + self._lease)
            else:
                give_back(session, self.holder, [pair])
        self._marked = waits
