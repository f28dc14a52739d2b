"""The shared metadata cache: one row per (source, key), used by every company.

A row holds a source's last good answer (``PackageMetadata.to_dict()``), its validators
(ETag, Last-Modified), when it was fetched and until when it is used without asking
again (the TTL, ``metadata_ttl_days``).  After the TTL the source is asked with a
conditional request; a ``304`` only moves the expiry.  A failure keeps the last good
answer, counts the attempt and sets ``next_attempt_at`` (exponential backoff), so a
source that is down is not asked again on every run.

Pure decisions (`plan`, `apply_result`) plus bulk reads and writes.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import tuple_
from sqlmodel import Session, col, select

from service.projects.links import NOT_FOUND_REASONS
from service.projects.models import MetadataCacheEntry, as_utc
from service.projects.providers import CachedEntry, PackageMetadata, ProviderResult

FIRST_RETRY = timedelta(minutes=15)
FIRST_NOT_FOUND_RETRY = timedelta(days=1)


class Action(enum.StrEnum):
    fresh = "fresh"  # use the cached answer, send nothing
    fetch = "fetch"  # ask the source (conditionally when validators are cached)
    wait = "wait"  # the source failed recently; its backoff has not run out


@dataclass(slots=True)
class CacheRow:
    """A cache row as plain data: resolution handles thousands, ORM objects cost too much."""

    source: str
    key: str
    status: str = "ok"
    etag: str | None = None
    last_modified: str | None = None
    fetched_at: datetime | None = None
    expires_at: datetime | None = None
    error: str | None = None
    attempts: int = 0
    next_attempt_at: datetime | None = None
    data: dict[str, Any] | None = None
    updated_at: datetime | None = None


COLUMNS = tuple(f for f in CacheRow.__slots__)


@dataclass(frozen=True, slots=True)
class Plan:
    action: Action
    cached: CachedEntry | None = None


def backoff(attempts: int, *, not_found: bool, ttl: timedelta) -> timedelta:
    """15 min, 30 min, 1 h … for failures; 1 day, 2 days … for "not found"; at most the TTL."""
    first = FIRST_NOT_FOUND_RETRY if not_found else FIRST_RETRY
    return min(first * (2 ** max(0, attempts - 1)), ttl)


def metadata_of(entry: CacheRow | MetadataCacheEntry | None) -> PackageMetadata | None:
    """The last good answer kept in a row, if any."""
    if entry is None or not entry.data:
        return None
    return PackageMetadata.from_dict(entry.data)


def plan(
    entry: CacheRow | MetadataCacheEntry | None, now: datetime, *, retry_now: bool = False
) -> Plan:
    """What to do about (source, key) at `now`, given its cache row."""
    if entry is None:
        return Plan(Action.fetch)
    expires = as_utc(entry.expires_at)
    if entry.status == "ok" and expires is not None and expires > now:
        return Plan(Action.fresh)
    next_attempt = as_utc(entry.next_attempt_at)
    if entry.status != "ok" and not retry_now and next_attempt is not None and next_attempt > now:
        return Plan(Action.wait)
    metadata = metadata_of(entry)
    if metadata is not None and (entry.etag or entry.last_modified):
        return Plan(
            Action.fetch,
            CachedEntry(
                etag=entry.etag,
                last_modified=entry.last_modified,
                fetched_at=as_utc(entry.fetched_at),
                metadata=metadata,
            ),
        )
    return Plan(Action.fetch)


def apply_result(
    entry: CacheRow | MetadataCacheEntry | None,
    result: ProviderResult,
    now: datetime,
    ttl: timedelta,
) -> CacheRow | MetadataCacheEntry:
    """The row after `result`: a new answer, a confirmed one (304), or a counted failure."""
    if entry is None:
        entry = CacheRow(source=result.source, key=result.package_key)
    entry.updated_at = now
    if result.error is None and (result.metadata is not None or result.not_modified):
        if result.metadata is not None:
            entry.data = result.metadata.to_dict()
        if not result.not_modified or result.etag or result.last_modified:
            entry.etag = _clip(result.etag, 500)
            entry.last_modified = _clip(result.last_modified, 100)
        entry.status = "ok" if entry.data is not None else "not_found"
        # When the answer was made (a snapshot keeps its own date); a 304 confirms it now.
        entry.fetched_at = now if result.not_modified else result.fetched_at
        entry.expires_at = now + ttl
        entry.error = None
        entry.attempts = 0
        entry.next_attempt_at = None
        return entry
    reason = result.error or "no_answer"
    not_found = reason in NOT_FOUND_REASONS
    entry.attempts = (entry.attempts or 0) + 1
    entry.status = "not_found" if not_found else "error"
    entry.error = _clip(reason, 200)
    entry.next_attempt_at = now + backoff(entry.attempts, not_found=not_found, ttl=ttl)
    return entry


def _clip(value: str | None, length: int) -> str | None:
    return value[:length] if value else value


# Bulk access ------------------------------------------------------------------------------

CHUNK = 400


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _select_rows():
    table = MetadataCacheEntry.__table__
    return select(*(table.c[name] for name in COLUMNS))


def load(session: Session, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], CacheRow]:
    """Cache rows for (source, key) pairs that have one."""
    wanted = list(dict.fromkeys(pairs))
    found: dict[tuple[str, str], CacheRow] = {}
    for chunk in _chunks(wanted):
        rows = session.exec(
            _select_rows().where(
                tuple_(col(MetadataCacheEntry.source), col(MetadataCacheEntry.key)).in_(chunk)
            )
        )
        for row in rows:
            found[(row.source, row.key)] = CacheRow(*row)
    return found


def load_keys(
    session: Session, keys: Iterable[str], sources: Iterable[str] | None = None
) -> dict[tuple[str, str], CacheRow]:
    """Cache rows of every source (or the given ones) for these keys."""
    wanted = list(dict.fromkeys(keys))
    source_list = list(sources) if sources is not None else None
    found: dict[tuple[str, str], CacheRow] = {}
    for chunk in _chunks(wanted):
        query = _select_rows().where(col(MetadataCacheEntry.key).in_(chunk))
        if source_list is not None:
            query = query.where(col(MetadataCacheEntry.source).in_(source_list))
        for row in session.exec(query):
            found[(row.source, row.key)] = CacheRow(*row)
    return found


def stats(session: Session, now: datetime) -> list[dict[str, Any]]:
    """Per source: rows, fresh, stale, not found, failing (for `tributary metadata stats`)."""
    from sqlalchemy import and_, case, func

    fresh_row = and_(MetadataCacheEntry.status == "ok", col(MetadataCacheEntry.expires_at) > now)
    query = select(
        MetadataCacheEntry.source,
        func.count(),
        func.sum(case((fresh_row, 1), else_=0)),
        func.sum(case((MetadataCacheEntry.status == "not_found", 1), else_=0)),
        func.sum(case((MetadataCacheEntry.status == "error", 1), else_=0)),
    ).group_by(col(MetadataCacheEntry.source))
    rows = []
    for source, total, fresh, not_found, failing in session.exec(query):
        rows.append(
            {
                "source": source,
                "entries": total,
                "fresh": int(fresh or 0),
                "stale": int(total - (fresh or 0) - (not_found or 0) - (failing or 0)),
                "not_found": int(not_found or 0),
                "failing": int(failing or 0),
            }
        )
    return sorted(rows, key=lambda r: r["source"])
