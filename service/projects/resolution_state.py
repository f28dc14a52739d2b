"""What one resolution run keeps: its report, each package's state as it moves through
the sources (``PackageWork``), with the outcome that state comes to, and the repositories
it asks GitHub about (``RepositoryLookup``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from service.projects.links import (
    LINK_RANK,
    REGISTRY_SOURCES,
    hint_repository,
    purl_repository,
)
from service.projects.models import PackageResolution, ResolutionStatus
from service.projects.providers.base import parse_package_key
from service.projects.resolution_store import MAX_REASON
from service.projects.urls import RepoRef


@dataclass
class ResolutionReport:
    """What one run did."""

    packages: int = 0
    resolved: int = 0
    unresolved: int = 0
    errors: int = 0
    projects: int = 0
    repositories: int = 0
    requests: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    # (package key, reason) of every package that failed; retried from `retry_at` on.
    failures: list[tuple[str, str]] = field(default_factory=list)
    retry_at: datetime | None = None
    unlinked: list[tuple[str, str]] = field(default_factory=list)  # no source names a repo

    def count(self, key: str, result: Outcome) -> None:
        """A package's outcome."""
        if result.status is ResolutionStatus.resolved:
            self.resolved += 1
        elif result.status is ResolutionStatus.error:
            self.errors += 1
            self.failures.append((key, result.reason or "failed"))
            self.retry_by(result.retry_at)
        else:
            self.unresolved += 1
            self.unlinked.append((key, result.reason or "no repository link"))

    def retry_by(self, when: datetime) -> None:
        """Something failed for now: the run is due again by ``when`` at the latest."""
        if self.retry_at is None or when < self.retry_at:
            self.retry_at = when

    def as_dict(self) -> dict[str, Any]:
        return {
            "packages": self.packages,
            "resolved": self.resolved,
            "unresolved": self.unresolved,
            "errors": self.errors,
            "projects": self.projects,
            "repositories": self.repositories,
            "requests": dict(self.requests),
            "seconds": round(self.seconds, 3),
            "failures": [list(f) for f in self.failures],
        }


@dataclass
class PackageWork:
    """One package moving through the sources."""

    id: int
    key: str
    type: str | None
    previous: PackageResolution | None
    version: str | None = None  # the newest upload's version, for per-version sources
    purl_link: RepoRef | None = None
    # company id → (the repository its SBOMs name, notes about refused hints)
    company_links: dict[int, tuple[RepoRef | None, list[str]]] = field(default_factory=dict)
    links: dict[str, RepoRef] = field(default_factory=dict)  # "registry"/"depsdev"… → repo
    link_source_name: dict[str, str] = field(default_factory=dict)  # "registry" → "npm"
    notes: list[str] = field(default_factory=list)
    asked: list[str] = field(default_factory=list)
    transient: bool = False
    retry_at: datetime | None = None
    changed: bool = False  # a source said something new: the project's data is recomputed
    done: bool = False

    @classmethod
    def of(
        cls,
        package_id: int,
        key: str,
        previous: PackageResolution | None,
        version: str | None,
        hints: Mapping[int, Mapping[int, list]],
    ) -> PackageWork:
        """A package as a run starts it: what its purl and each company's hints link to."""
        try:
            kind = parse_package_key(key).type
        except ValueError:
            kind = None
        item = cls(package_id, key, kind, previous, version)
        item.purl_link = purl_repository(key)
        for company_id, company_hints in hints.get(package_id, {}).items():
            repo, notes = hint_repository(company_hints)
            if repo is not None or notes:
                item.company_links[company_id] = (repo, notes)
        return item

    @property
    def registry(self) -> str | None:
        """The source for packages of this type (its registry), if there is one."""
        return REGISTRY_SOURCES.get(self.type or "")

    def best_link(self) -> tuple[RepoRef | None, str | None]:
        candidates = dict(self.links)
        if self.purl_link:
            candidates["purl"] = self.purl_link
        if not candidates:
            return None, None
        kind = min(candidates, key=lambda k: LINK_RANK[k])
        return candidates[kind], self.link_source_name.get(kind, kind)


@dataclass(frozen=True)
class RepositoryLookup:
    """A repository due at GitHub: its cache key (``pkg:github/owner/name``) and itself."""

    key: str
    repo: RepoRef


@dataclass(frozen=True)
class Outcome:
    """Where a package stands after a run: its status, its failed attempts in a row, why
    (the sources' notes), and when it is due again."""

    status: ResolutionStatus
    attempts: int
    reason: str | None
    retry_at: datetime


def outcome(item: PackageWork, now: datetime, ttl: timedelta) -> Outcome:
    """The outcome of a package's state: resolved once any source names a repository;
    an error (retried with backoff) when a source failed for now; else unresolved."""
    attempts = item.previous.attempts if item.previous else 0
    if item.best_link()[0] is not None:
        status, attempts = ResolutionStatus.resolved, 0
    elif item.transient:
        status, attempts = ResolutionStatus.error, attempts + 1
    else:
        status, attempts = ResolutionStatus.unresolved, 0
    retry = now + ttl
    if item.retry_at is not None:
        retry = min(retry, item.retry_at)
    return Outcome(status, attempts, "; ".join(_notes(item, status))[:MAX_REASON] or None, retry)


def _notes(item: PackageWork, status: ResolutionStatus) -> list[str]:
    """The sources' notes, led for an unresolved package by which sources answered
    without a link (or that none covers its type)."""
    notes = list(dict.fromkeys(item.notes))
    if status is ResolutionStatus.unresolved:
        asked = list(dict.fromkeys(item.asked))
        if not asked:
            notes.insert(0, f"no metadata source for {item.type or 'these'} packages")
        else:
            answered = [s for s in asked if not any(n.startswith(f"{s}:") for n in notes)]
            if answered:
                notes.insert(0, "no repository link from " + ", ".join(answered))
    return notes


def resolution_rows(
    finished: list[PackageWork],
    results: list[Outcome],
    projects: Mapping[str, int],
    now: datetime,
) -> list[dict[str, Any]]:
    """The stored resolution of each finished package (``projects``: id by repository)."""
    rows = []
    for item, result in zip(finished, results, strict=True):
        repo, source = item.best_link()
        rows.append(
            {
                "package_id": item.id,
                "project_id": projects.get(repo.key) if repo else None,
                "status": result.status.value,
                "reason": result.reason,
                "source": source,
                "resolved_at": now,
                "attempts": result.attempts,
                "next_attempt_at": result.retry_at,
                "updated_at": now,
            }
        )
    return rows


def company_link_rows(
    finished: list[PackageWork], projects: Mapping[str, int], now: datetime
) -> list[dict[str, Any]]:
    """Each company's links for these packages, as its stored SBOMs now assert them."""
    return [
        {
            "company_id": company_id,
            "package_id": item.id,
            "project_id": projects.get(repo.key) if repo else None,
            "note": "; ".join(notes)[:MAX_REASON] or None,
            "updated_at": now,
        }
        for item in finished
        for company_id, (repo, notes) in item.company_links.items()
    ]
