"""Offline metadata: answers from a JSON Lines snapshot instead of the network.

One object per line::

    {"source": "pypi", "key": "pkg:pypi/requests", "fetched_at": "2025-01-01T00:00:00Z",
     "data": {<PackageMetadata.to_dict()>}}

The demo and air-gapped installs resolve from such a snapshot; ``dump_snapshot`` /
``load_snapshot`` are the building blocks of ``tributary metadata export/import``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from service.core.clock import utcnow
from service.projects.providers.base import (
    CachedEntry,
    PackageMetadata,
    ProviderResult,
    parse_package_key,
    parse_time,
)

__all__ = [
    "OfflineProvider",
    "SnapshotError",
    "SnapshotRecord",
    "dump_snapshot",
    "iter_snapshot",
    "load_snapshot",
    "offline_providers",
]


class SnapshotError(ValueError):
    """A snapshot line that cannot be read; the message names the line."""


@dataclass(frozen=True, slots=True)
class SnapshotRecord:
    """One (source, package) answer kept in a snapshot."""

    source: str
    key: str
    fetched_at: datetime | None
    metadata: PackageMetadata

    def to_json(self) -> str:
        fetched = (
            self.fetched_at.astimezone(UTC).isoformat().replace("+00:00", "Z")
            if (self.fetched_at)
            else None
        )
        return json.dumps(
            {
                "source": self.source,
                "key": self.key,
                "fetched_at": fetched,
                "data": self.metadata.to_dict(),
            },
            sort_keys=True,
            ensure_ascii=False,
        )

    @classmethod
    def from_result(cls, result: ProviderResult) -> SnapshotRecord | None:
        """A record from a successful provider answer (None when it carries no data)."""
        if result.metadata is None:
            return None
        return cls(result.source, result.package_key, result.fetched_at, result.metadata)


def dump_snapshot(records: Iterable[SnapshotRecord], target: str | Path | IO[str]) -> int:
    """Write records as JSON Lines (sorted by source and key); return how many."""
    ordered = sorted(records, key=lambda r: (r.source, r.key))
    if isinstance(target, str | Path):
        with open(target, "w", encoding="utf-8") as handle:
            return _write(ordered, handle)
    return _write(ordered, target)


def _write(records: list[SnapshotRecord], handle: IO[str]) -> int:
    for record in records:
        handle.write(record.to_json())
        handle.write("\n")
    return len(records)


def iter_snapshot(source: str | Path | IO[str]) -> Iterator[SnapshotRecord]:
    """Read records one at a time; raises :class:`SnapshotError` naming the bad line."""
    if isinstance(source, str | Path):
        with open(source, encoding="utf-8") as handle:
            yield from _read(handle)
    else:
        yield from _read(source)


def _read(handle: IO[str]) -> Iterator[SnapshotRecord]:
    for number, line in enumerate(handle, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError as exc:
            raise SnapshotError(f"line {number}: not JSON ({exc.msg})") from None
        if not isinstance(obj, dict):
            raise SnapshotError(f"line {number}: expected a JSON object")
        source, key, data = obj.get("source"), obj.get("key"), obj.get("data")
        if not isinstance(source, str) or not source:
            raise SnapshotError(f"line {number}: 'source' must be a non-empty string")
        if not isinstance(key, str):
            raise SnapshotError(f"line {number}: 'key' must be a package key string")
        try:
            parse_package_key(key)
        except ValueError:
            raise SnapshotError(f"line {number}: 'key' {key!r} is not a package URL") from None
        if not isinstance(data, dict):
            raise SnapshotError(f"line {number}: 'data' must be an object")
        try:
            metadata = PackageMetadata.from_dict(data)
        except (AttributeError, TypeError, KeyError, ValueError) as exc:
            raise SnapshotError(f"line {number}: 'data' is not package metadata ({exc})") from None
        yield SnapshotRecord(source, key, parse_time(obj.get("fetched_at")), metadata)


def load_snapshot(source: str | Path | IO[str]) -> dict[tuple[str, str], SnapshotRecord]:
    """All records keyed by (source, package key); a later line wins over an earlier one."""
    return {(r.source, r.key): r for r in iter_snapshot(source)}


class OfflineProvider:
    """Answers as ``source`` from snapshot records; never touches the network."""

    def __init__(
        self,
        records: Mapping[tuple[str, str], SnapshotRecord],
        source: str,
        *,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self.source = source
        self._records = {key: r for (src, key), r in records.items() if src == source}
        self._now = now or utcnow

    def supports(self, package_key: str) -> bool:
        return package_key in self._records

    def fetch(
        self,
        package_key: str,
        *,
        cached: CachedEntry | None = None,
        version: str | None = None,
    ) -> ProviderResult:
        record = self._records.get(package_key)
        if record is None:
            return ProviderResult(
                source=self.source,
                package_key=package_key,
                error="not_in_snapshot",
                fetched_at=self._now(),
            )
        return ProviderResult(
            source=self.source,
            package_key=package_key,
            metadata=record.metadata,
            fetched_at=record.fetched_at or self._now(),
        )

    def fetch_batch(
        self, package_keys: Iterable[str], *, cached: Mapping[str, CachedEntry] | None = None
    ) -> dict[str, ProviderResult]:
        return {key: self.fetch(key) for key in package_keys}


def offline_providers(
    snapshot: str | Path | IO[str] | Mapping[tuple[str, str], SnapshotRecord],
) -> dict[str, OfflineProvider]:
    """One :class:`OfflineProvider` per source found in the snapshot."""
    records: Mapping[tuple[str, str], Any]
    records = snapshot if isinstance(snapshot, Mapping) else load_snapshot(snapshot)
    sources = sorted({source for source, _ in records})
    return {source: OfflineProvider(records, source) for source in sources}
