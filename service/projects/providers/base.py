"""The metadata provider interface and the normalized shapes every source returns.

A provider answers one question — "what does *this source* say about this package?"
— as a :class:`PackageMetadata`, wrapped in a :class:`ProviderResult` that also
carries cache validators and, when the source could not answer, an ``error`` reason.
Providers never raise for outside failures (timeouts, 404, 429, garbage); they raise
only for programming errors.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable
from urllib.parse import quote
from xml.etree.ElementTree import Element

from defusedxml import ElementTree as SafeET
from defusedxml.common import DefusedXmlException
from packageurl import PackageURL

from service.core.clock import utcnow
from service.core.fetch_results import FetchError, FetchResult
from service.projects.funding import FundingChannel, FundingPlan, dedupe_channels
from service.projects.urls import RepoRef, normalize_repo_url

if TYPE_CHECKING:
    from service.core.http import OutboundClient

logger = logging.getLogger(__name__)

__all__ = [
    "BaseProvider",
    "CachedEntry",
    "PackageMetadata",
    "PackageRef",
    "Person",
    "Provider",
    "ProviderResult",
    "parse_package_key",
    "parse_time",
]


# --- normalized data -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Person:
    """Someone attached to a package: a publisher, maintainer, author or contributor."""

    login: str | None = None
    name: str | None = None
    email: str | None = None
    role: str = "maintainer"
    source: str = ""
    contributions: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "login": self.login,
            "name": self.name,
            "email": self.email,
            "role": self.role,
            "source": self.source,
            "contributions": self.contributions,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Person:
        return cls(
            login=data.get("login"),
            name=data.get("name"),
            email=data.get("email"),
            role=str(data.get("role") or "maintainer"),
            source=str(data.get("source") or ""),
            contributions=data.get("contributions"),
        )


@dataclass(frozen=True, slots=True)
class PackageMetadata:
    """What one source says about one package (or, for GitHub, one repository).

    ``None`` means "this source does not say"; an empty list means "it says none".
    ``repository_url`` is always canonical (``https://host/owner/name``) or None.
    """

    repository_url: str | None = None
    repository_provenance: str | None = None  # "attested", "metadata", "go_origin", "purl"
    homepage: str | None = None
    description: str | None = None  # one line, as the source gives it (shown escaped)
    maintainers: tuple[Person, ...] = ()
    contributors: tuple[Person, ...] = ()
    funding: tuple[FundingChannel, ...] = ()
    funding_plans: tuple[FundingPlan, ...] = ()
    latest_version: str | None = None
    latest_release_at: datetime | None = None
    release_count: int | None = None
    publishers_count: int | None = None
    contributors_count: int | None = None
    downloads: int | None = None
    downloads_period: str | None = None  # "total", "last-month", "90d"
    dependents: int | None = None
    deprecated: bool | None = None
    archived: bool | None = None
    owner_type: str | None = None  # GitHub "User" / "Organization"
    pushed_at: datetime | None = None
    scorecard: Mapping[str, Any] | None = None  # {"overall", "maintained", "date", "checks"}
    advisories: int | None = None
    # Repository activity (the OpenSSF criticality inputs); "last year" and "last 90
    # days" run back from when the source was read.
    created_at: datetime | None = None
    commits_last_year: int | None = None
    active_contributors: int | None = None  # distinct commit authors in the last year
    org_count: int | None = None  # distinct organisations of those authors
    releases_last_year: int | None = None
    issues_closed_90d: int | None = None
    issues_updated_90d: int | None = None
    comment_frequency: float | None = None  # comments per issue updated in the last 90 days
    security_policy: bool | None = None
    license: str | None = None
    raw_source_url: str | None = None

    @property
    def repository(self) -> RepoRef | None:
        """The repository as a :class:`RepoRef`."""
        return normalize_repo_url(self.repository_url, allow_unknown_hosts=True)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (datetimes as ISO 8601 strings)."""
        return {
            "repository_url": self.repository_url,
            "repository_provenance": self.repository_provenance,
            "homepage": self.homepage,
            "description": self.description,
            "maintainers": [p.to_dict() for p in self.maintainers],
            "contributors": [p.to_dict() for p in self.contributors],
            "funding": [c.to_dict() for c in self.funding],
            "funding_plans": [p.to_dict() for p in self.funding_plans],
            "latest_version": self.latest_version,
            "latest_release_at": _iso(self.latest_release_at),
            "release_count": self.release_count,
            "publishers_count": self.publishers_count,
            "contributors_count": self.contributors_count,
            "downloads": self.downloads,
            "downloads_period": self.downloads_period,
            "dependents": self.dependents,
            "deprecated": self.deprecated,
            "archived": self.archived,
            "owner_type": self.owner_type,
            "pushed_at": _iso(self.pushed_at),
            "scorecard": dict(self.scorecard) if self.scorecard is not None else None,
            "advisories": self.advisories,
            "created_at": _iso(self.created_at),
            **{name: getattr(self, name) for name in _ACTIVITY_FIELDS},
            "raw_source_url": self.raw_source_url,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PackageMetadata:
        """Inverse of :meth:`to_dict`; unknown keys are ignored."""
        return cls(
            repository_url=data.get("repository_url"),
            repository_provenance=data.get("repository_provenance"),
            homepage=data.get("homepage"),
            description=data.get("description"),
            maintainers=tuple(Person.from_dict(p) for p in data.get("maintainers") or ()),
            contributors=tuple(Person.from_dict(p) for p in data.get("contributors") or ()),
            funding=tuple(FundingChannel.from_dict(c) for c in data.get("funding") or ()),
            funding_plans=tuple(FundingPlan.from_dict(p) for p in data.get("funding_plans") or ()),
            latest_version=data.get("latest_version"),
            latest_release_at=parse_time(data.get("latest_release_at")),
            release_count=data.get("release_count"),
            publishers_count=data.get("publishers_count"),
            contributors_count=data.get("contributors_count"),
            downloads=data.get("downloads"),
            downloads_period=data.get("downloads_period"),
            dependents=data.get("dependents"),
            deprecated=data.get("deprecated"),
            archived=data.get("archived"),
            owner_type=data.get("owner_type"),
            pushed_at=parse_time(data.get("pushed_at")),
            scorecard=data.get("scorecard"),
            advisories=data.get("advisories"),
            created_at=parse_time(data.get("created_at")),
            **{name: data.get(name) for name in _ACTIVITY_FIELDS},
            raw_source_url=data.get("raw_source_url"),
        )


_ACTIVITY_FIELDS = (
    "commits_last_year",
    "active_contributors",
    "org_count",
    "releases_last_year",
    "issues_closed_90d",
    "issues_updated_90d",
    "comment_frequency",
    "security_policy",
    "license",
)


@dataclass(frozen=True, slots=True)
class CachedEntry:
    """What the metadata cache holds for (source, package): validators and last answer."""

    etag: str | None = None
    last_modified: str | None = None
    fetched_at: datetime | None = None
    metadata: PackageMetadata | None = None


@dataclass(frozen=True, slots=True)
class ProviderResult:
    """One source's answer for one package.

    ``error`` set → the source could not answer (``metadata`` is None).
    ``not_modified`` → the source confirmed the cached answer; ``metadata`` is the
    cached one when the caller passed it.  ``warnings`` name secondary lookups that
    failed while the main one succeeded (e.g. an owners endpoint timing out).
    """

    source: str
    package_key: str
    metadata: PackageMetadata | None = None
    error: str | None = None
    not_modified: bool = False
    etag: str | None = None
    last_modified: str | None = None
    fetched_at: datetime = field(default_factory=utcnow)
    warnings: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.error is None


@runtime_checkable
class Provider(Protocol):
    """A metadata source."""

    source: str

    def supports(self, package_key: str) -> bool: ...

    def fetch(
        self,
        package_key: str,
        *,
        cached: CachedEntry | None = None,
        version: str | None = None,
    ) -> ProviderResult: ...

    def fetch_batch(
        self, package_keys: Iterable[str], *, cached: Mapping[str, CachedEntry] | None = None
    ) -> dict[str, ProviderResult]: ...


# --- package keys --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PackageRef:
    """A parsed package key (version-less), plus the version in use where one is known."""

    key: str
    type: str
    namespace: str | None
    name: str
    version: str | None = None

    @property
    def full_name(self) -> str:
        """Name as the ecosystem spells it: ``@babel/core``, ``org.apache:commons-lang3``,
        ``github.com/x/y`` (Go module path), ``requests``."""
        if not self.namespace:
            return self.name
        if self.type == "maven":
            return f"{self.namespace}:{self.name}"
        return f"{self.namespace}/{self.name}"

    def quoted(self, name: str | None = None) -> str:
        """A name as one URL path segment (``/`` encoded)."""
        return quote(name if name is not None else self.full_name, safe="")


@lru_cache(maxsize=65536)  # one package is looked at by several steps and sources
def parse_package_key(package_key: str) -> PackageRef:
    """Parse ``pkg:type/namespace/name`` (any version, qualifiers and subpath dropped).

    Raises ``ValueError`` for something that is not a purl. Each key is parsed once (the
    result is immutable and cached).
    """
    purl = PackageURL.from_string(package_key)
    return PackageRef(
        key=package_key, type=purl.type, namespace=purl.namespace or None, name=purl.name
    )


def parse_time(value: Any) -> datetime | None:
    """Parse ISO 8601 (``Z`` or offset) into an aware UTC datetime; None when unreadable."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
    # Python 3.11 accepts most ISO forms but not >6 fractional digits.
    if "." in text:
        head, _, rest = text.partition(".")
        digits = ""
        while rest and rest[0].isdigit():
            digits, rest = digits + rest[0], rest[1:]
        text = f"{head}.{digits[:6].ljust(6, '0')}{rest}" if digits else head + rest
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else None


# --- shared provider behaviour ----------------------------------------------------


class BaseProvider:
    """Common plumbing: key parsing, error capture, conditional fetch of the main document.

    Subclasses set ``source`` and ``types`` and implement :meth:`_fetch`.
    """

    source: ClassVar[str] = ""
    types: ClassVar[frozenset[str]] = frozenset()

    def __init__(
        self,
        client: OutboundClient,
        *,
        base_url: str,
        now: Callable[[], datetime] | None = None,
        repo_hosts: Iterable[str] = (),
    ) -> None:
        self.client = client
        self.base_url = base_url.rstrip("/")
        self._now = now or utcnow
        self.repo_hosts = tuple(repo_hosts)

    # -- public ---------------------------------------------------------------------

    def supports(self, package_key: str) -> bool:
        """Whether this source can answer for the package key's purl type."""
        try:
            return parse_package_key(package_key).type in self.types
        except ValueError:
            return False

    def fetch(
        self,
        package_key: str,
        *,
        cached: CachedEntry | None = None,
        version: str | None = None,
    ) -> ProviderResult:
        """Ask the source about one package; never raises for outside failures.

        ``version`` is the version the SBOMs name, for sources whose documents are per
        version (Maven POMs); the others ignore it.
        """
        started = self._now()
        try:
            ref = replace(parse_package_key(package_key), version=version)
        except ValueError:
            return self._failure(package_key, "invalid_package_key", started)
        if ref.type not in self.types:
            return self._failure(package_key, "unsupported", started)
        try:
            return self._fetch(ref, cached)
        except FetchError as exc:
            return self._failure(package_key, exc.reason, started)
        except (TypeError, ValueError, KeyError, IndexError, AttributeError):
            # A document shaped unlike the documented API: an outside failure for the
            # caller, but logged with its traceback because it may also be our bug.
            logger.warning(
                "%s answered %s with an unexpected shape", self.source, package_key, exc_info=True
            )
            return self._failure(package_key, "invalid_shape", started)

    def fetch_batch(
        self, package_keys: Iterable[str], *, cached: Mapping[str, CachedEntry] | None = None
    ) -> dict[str, ProviderResult]:
        """Ask about many packages (one request each unless the source has a batch API)."""
        cached = cached or {}
        return {key: self.fetch(key, cached=cached.get(key)) for key in package_keys}

    # -- for subclasses -------------------------------------------------------------

    def _fetch(self, ref: PackageRef, cached: CachedEntry | None) -> ProviderResult:
        raise NotImplementedError

    def _get_main(
        self, url: str, cached: CachedEntry | None, **kwargs: Any
    ) -> tuple[Any, FetchResult]:
        """GET the main JSON document conditionally (``data`` is None on 304)."""
        return self.client.get_json(
            url,
            cached.etag if cached else None,
            cached.last_modified if cached else None,
            source=self.source,
            **kwargs,
        )

    def _get_json_optional(
        self, url: str, warnings: list[str], what: str, **kwargs: Any
    ) -> Any | None:
        """GET a secondary JSON document; failures become warnings, 404 means absent."""
        try:
            data, _ = self.client.get_json(url, source=self.source, **kwargs)
        except FetchError as exc:
            if exc.reason != "http_404":
                warnings.append(f"{what}: {exc.reason}")
            return None
        return data

    def _not_modified(
        self, ref: PackageRef, cached: CachedEntry | None, result: FetchResult
    ) -> ProviderResult:
        return ProviderResult(
            source=self.source,
            package_key=ref.key,
            metadata=cached.metadata if cached else None,
            not_modified=True,
            etag=result.etag,
            last_modified=result.last_modified,
            fetched_at=self._now(),
        )

    def _success(
        self,
        ref: PackageRef,
        metadata: PackageMetadata,
        result: FetchResult | None,
        warnings: Iterable[str] = (),
    ) -> ProviderResult:
        return ProviderResult(
            source=self.source,
            package_key=ref.key,
            metadata=metadata,
            etag=result.etag if result else None,
            last_modified=result.last_modified if result else None,
            fetched_at=self._now(),
            warnings=tuple(warnings),
        )

    def _failure(self, package_key: str, reason: str, started: datetime) -> ProviderResult:
        return ProviderResult(
            source=self.source, package_key=package_key, error=reason, fetched_at=started
        )

    def _repo(self, *candidates: Any) -> RepoRef | None:
        """The first candidate URL that names a repository (metadata URLs are untrusted)."""
        for candidate in candidates:
            ref = normalize_repo_url(candidate, extra_hosts=self.repo_hosts)
            if ref is not None:
                return ref
        return None


# --- small tolerant readers used by several providers ------------------------------


def as_dict(value: Any) -> dict[str, Any]:
    """``value`` if it is a dict, else an empty one."""
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    """``value`` if it is a list, else an empty one."""
    return value if isinstance(value, list) else []


def as_str(value: Any) -> str | None:
    """A stripped non-empty string, else None."""
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def as_int(value: Any) -> int | None:
    """An int (not bool), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def short_text(value: Any, limit: int = 500) -> str | None:
    """A one-line description cut to ``limit`` characters, else None."""
    text = as_str(value)
    if text is None:
        return None
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def web_url(value: Any) -> str | None:
    """An http(s) URL string, else None (homepages are shown, never fetched)."""
    text = as_str(value)
    if text and text.lower().startswith(("https://", "http://")) and len(text) <= 2048:
        return text
    return None


def parse_xml(body: bytes | None) -> Element | None:
    """Parse XML with entity expansion and external entities refused; namespaces dropped.

    None for anything unreadable, including documents that declare entities.
    """
    if not body:
        return None
    try:
        root = SafeET.fromstring(body)
    except (SafeET.ParseError, DefusedXmlException, ValueError):
        return None
    for node in root.iter():
        if isinstance(node.tag, str) and "}" in node.tag:
            node.tag = node.tag.split("}", 1)[1]
    return root


def merge_funding(*groups: Iterable[FundingChannel]) -> tuple[FundingChannel, ...]:
    """Concatenate channel lists, dropping repeats."""
    return tuple(dedupe_channels(c for group in groups for c in group))
