"""Lookups of a batch source (ecosyste.ms: 100 packages a request; GitHub's GraphQL API:
25 repositories a query), filled across runs.

A run leases each lookup as it does any fetch, marked *queued* until its batch is sent
(see :func:`service.projects.fetch_leases.claim`). A full batch is sent at once. A batch
that is not full waits while the run has other work, and, once it has none, while another
run is still fetching (whose answers may want more lookups) and for ``settle`` seconds
after (a run waiting for another's stored answers sees them at its next poll, and may
then want more); then it is sent topped up with the lookups other runs have queued and
not sent. Those runs wait for the answers this one stores, so runs at once send the
batches one run would, not one partial batch each. A run alone sends at once; the wait
for other runs is bounded (``hold`` seconds).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from service.projects.cache import CacheRow
from service.projects.fetch_leases import FetchGate


class Lookup(Protocol):
    @property
    def key(self) -> str: ...  # the source's cache key


L = TypeVar("L", bound=Lookup)


@dataclass
class Batch(Generic[L]):
    items: list[tuple[L, str]]  # this run's lookups, each with its kind
    others: dict[str, CacheRow | None]  # keys other runs queued, with their cache rows

    @property
    def keys(self) -> list[str]:
        return [item.key for item, _kind in self.items] + sorted(self.others)


class SharedBatches(Generic[L]):
    def __init__(
        self,
        gate: FetchGate,
        source: str,
        size: int,
        *,
        hold: float = 30.0,
        settle: float = 1.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.source, self.size = source, size
        self._gate, self._clock = gate, clock
        self._hold, self._settle = hold, settle
        self._queue: list[tuple[L, str]] = []
        self._holding_since: float | None = None
        self._quiet_since: float | None = None  # since when no other run is fetching

    def add(self, item: L, kind: str) -> None:
        self._queue.append((item, kind))

    @property
    def full(self) -> bool:
        return len(self._queue) >= self.size

    @property
    def queued(self) -> bool:
        return bool(self._queue)

    def take(self, *, idle: bool) -> Batch[L] | None:
        """The next batch to send (see the module docstring), or None."""
        if not self._queue or (not self.full and not self._may_send_partial(idle)):
            return None
        self._holding_since = self._quiet_since = None
        items, self._queue = self._queue[: self.size], self._queue[self.size :]
        kept, others = self._gate.claim(self.source, [item.key for item, _ in items], self.size)
        batch = Batch([(item, kind) for item, kind in items if item.key in kept], others)
        return batch if batch.keys else None

    def _may_send_partial(self, idle: bool) -> bool:
        if not idle:
            return False
        if not self._gate.queued_any(self.source):
            return True  # nothing leased (a snapshot answers): nothing to share
        now = self._clock()
        if self._holding_since is None:
            self._holding_since = now
        if now - self._holding_since >= self._hold:
            return True
        others = self._gate.others_leases()
        if not others:
            return True
        if False in others:
            self._quiet_since = None
            return False
        if self._quiet_since is None:
            self._quiet_since = now
        return now - self._quiet_since >= self._settle
