"""Projects (source repositories), how packages map to them, and the people behind them.

Shared by every company: a package's resolution, the metadata cache and what was found
about a project (maintainers, funding channels) are learnt once and used by all. Only
claims, splits and payout channels belong to a person. The one thing here that belongs to
a company is `CompanyPackageLink`: what its own SBOMs assert about where a package comes
from, which applies to that company's inventory alone.

Datetimes are aware UTC (SQLModel's UTCDateTime columns); `as_utc` also accepts naive
values from raw SQL, reading them as UTC.
"""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from service.core.clock import utcnow

# Notices live with the notifications domain (every domain uses them); re-exported here
# for the claims code that imports them from this module.
from service.notifications.models import Notification  # noqa: F401

KEY_LENGTH = 300
URL_LENGTH = 1000


def as_utc(value: datetime | None) -> datetime | None:
    """A datetime from the database as an aware UTC datetime (SQLite drops the zone)."""
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class ResolutionStatus(enum.StrEnum):
    pending = "pending"  # queued, not looked at yet
    resolved = "resolved"  # linked to a project
    unresolved = "unresolved"  # the sources answered, none names a repository
    error = "error"  # a source failed; retried with backoff


# Registry stewards (service.allocation.infrastructure) are recipients stored as projects
# on this pseudo-host; reports that total them apart from maintainers ask is_infrastructure.
INFRASTRUCTURE_HOST = "infrastructure"


def is_infrastructure(key: str) -> bool:
    return key.startswith(INFRASTRUCTURE_HOST + "/")


class Project(SQLModel, table=True):
    """A source repository: host/owner/name, normalized (see service.projects.urls)."""

    __tablename__ = "projects"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=KEY_LENGTH, unique=True, index=True)  # "github.com/o/r"
    host: str = Field(max_length=100)
    owner: str = Field(max_length=200)
    name: str = Field(max_length=100)
    repository_url: str = Field(max_length=URL_LENGTH)
    description: str | None = Field(default=None, max_length=URL_LENGTH)
    homepage: str | None = Field(default=None, max_length=URL_LENGTH)
    archived: bool | None = None
    pushed_at: datetime | None = None
    owner_type: str | None = Field(default=None, max_length=20)  # "user" / "organization"
    # Repository facts from the forge: "pending", "ok", "error" (with repo_error), or
    # "unsupported" for hosts Tributary cannot read (anything but the configured GitHub).
    repo_status: str = Field(default="pending", max_length=20)
    repo_error: str | None = Field(default=None, max_length=200)
    repo_checked_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class PackageResolution(SQLModel, table=True):
    """Where a package (shared by all companies) comes from: one row per package."""

    __tablename__ = "package_resolutions"
    __table_args__ = (Index("ix_package_resolutions_due", "status", "next_attempt_at"),)

    package_id: int = Field(foreign_key="packages.id", primary_key=True)
    project_id: int | None = Field(default=None, foreign_key="projects.id", index=True)
    status: str = Field(default=ResolutionStatus.pending.value, max_length=20)
    # Why it is unresolved or failed ("npm: timeout"), or what else was noticed.
    reason: str | None = Field(default=None, max_length=500)
    # Which source named the repository: purl, sbom, pypi, npm, depsdev, ecosystems…
    source: str | None = Field(default=None, max_length=40)
    resolved_at: datetime | None = None
    attempts: int = 0
    next_attempt_at: datetime | None = None
    updated_at: datetime = Field(default_factory=utcnow)


class CompanyPackageLink(SQLModel, table=True):
    """Where one company's SBOMs say a package comes from (vcs/website references, SPDX
    download locations): used for that company only, and only where no purl or registry
    names a repository (see service.projects.inventory.CompanyResolution)."""

    __tablename__ = "company_package_links"
    __table_args__ = (UniqueConstraint("company_id", "package_id"),)

    id: int | None = Field(default=None, primary_key=True)
    company_id: int = Field(foreign_key="companies.id", index=True)
    package_id: int = Field(foreign_key="packages.id", index=True)
    # Null when every hint was refused (`note` says why).
    project_id: int | None = Field(default=None, foreign_key="projects.id", index=True)
    note: str | None = Field(default=None, max_length=500)
    updated_at: datetime = Field(default_factory=utcnow)


class MetadataCacheEntry(SQLModel, table=True):
    """What one source said about one package (or repository), for every company."""

    __tablename__ = "metadata_cache"
    __table_args__ = (UniqueConstraint("source", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=20)
    key: str = Field(max_length=500)  # package key, or "pkg:github/owner/name" for a repo
    status: str = Field(default="ok", max_length=20)  # ok | not_found | error
    etag: str | None = Field(default=None, max_length=500)
    last_modified: str | None = Field(default=None, max_length=100)
    fetched_at: datetime | None = None
    expires_at: datetime | None = Field(default=None, index=True)
    error: str | None = Field(default=None, max_length=200)
    attempts: int = 0
    next_attempt_at: datetime | None = None
    # PackageMetadata.to_dict() of the last good answer (kept through later failures).
    data: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    updated_at: datetime = Field(default_factory=utcnow)


class FetchLease(SQLModel, table=True):
    """Who is asking ``source`` about ``key`` right now (a resolver run), until when (epoch
    seconds): another run that wants the same answer waits for it instead of asking too
    (see service.projects.fetch_leases)."""

    __tablename__ = "fetch_leases"

    source: str = Field(primary_key=True, max_length=20)
    key: str = Field(primary_key=True, max_length=500)
    holder: str = Field(max_length=100)
    until: float
    # Leased for a batch not sent yet: another run may take it into its own batch.
    queued: bool = False


class MavenParentPom(SQLModel, table=True):
    """A released parent POM (``group:artifact:version``), which never changes: read once
    for every process, however many artifacts climb to it."""

    __tablename__ = "maven_parent_poms"

    coordinates: str = Field(primary_key=True, max_length=500)
    pom: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    fetched_at: datetime = Field(default_factory=utcnow)


class Maintainer(SQLModel, table=True):
    """Someone a source names for a project (registry owner, repository contributor)."""

    __tablename__ = "maintainers"

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="projects.id", index=True)
    # The account name at `source` (an npm or PyPI user, a GitHub login), if any.
    login: str | None = Field(default=None, max_length=100)
    name: str | None = Field(default=None, max_length=200)
    role: str = Field(default="maintainer", max_length=40)
    source: str = Field(max_length=40)
    contributions: int | None = None
    found_at: datetime = Field(default_factory=utcnow)


class FundingChannel(SQLModel, table=True):
    """A place money can be sent, for a project or a person, with where it was found."""

    __tablename__ = "funding_channels"

    id: int | None = Field(default=None, primary_key=True)
    project_id: int | None = Field(default=None, foreign_key="projects.id", index=True)
    # The GitHub account behind a person's channel (GitHub Sponsors), if it is one.
    person_login: str | None = Field(default=None, max_length=100, index=True)
    kind: str = Field(max_length=40)  # github_sponsors, open_collective, … custom
    handle: str = Field(max_length=URL_LENGTH)
    url: str | None = Field(default=None, max_length=URL_LENGTH)
    source: str = Field(max_length=40)  # FUNDING.yml, funding.json, npm, pypi, …
    found_at: datetime = Field(default_factory=utcnow)


class ClaimStatus(enum.StrEnum):
    active = "active"
    released = "released"
    lapsed = "lapsed"


class ProjectClaim(SQLModel, table=True):
    """A maintainer's claim on a project, with the evidence GitHub gave for it."""

    __tablename__ = "project_claims"

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="projects.id", index=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    status: str = Field(default=ClaimStatus.active.value, max_length=20, index=True)
    evidence: str = Field(max_length=20)  # admin | maintain | funding_yml
    evidence_detail: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False)
    )
    claimed_at: datetime = Field(default_factory=utcnow)
    verified_at: datetime = Field(default_factory=utcnow)
    ended_at: datetime | None = None
    end_reason: str | None = Field(default=None, max_length=500)


class SplitProposal(SQLModel, table=True):
    """How co-maintainers share a project's money; agreed once every one accepts."""

    __tablename__ = "split_proposals"

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="projects.id", index=True)
    proposed_by_id: int = Field(foreign_key="users.id")
    # {"<user id>": basis points}; the values add up to 10,000 (100 %).
    shares: dict[str, int] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    accepted_by: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    status: str = Field(default="pending", max_length=20)  # pending|agreed|superseded|withdrawn
    created_at: datetime = Field(default_factory=utcnow)
    decided_at: datetime | None = None


class PayoutChannel(SQLModel, table=True):
    """Where a maintainer wants to be paid; one of them is preferred."""

    __tablename__ = "payout_channels"
    __table_args__ = (UniqueConstraint("user_id", "kind", "value"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    kind: str = Field(max_length=30)
    value: str = Field(max_length=500)  # a login, a slug, or a URL
    url: str | None = Field(default=None, max_length=URL_LENGTH)
    preferred: bool = False
    # The smallest payment the maintainer accepts here, in US cents (payment files leave
    # smaller amounts out and say so); None: no minimum of their own.
    minimum_minor: int | None = Field(default=None, sa_type=BigInteger)
    created_at: datetime = Field(default_factory=utcnow)


class OutboundUsage(SQLModel, table=True):
    """Requests sent to each outside source per day, for operators (metadata stats)."""

    __tablename__ = "outbound_usage"
    __table_args__ = (UniqueConstraint("day", "source"),)

    id: int | None = Field(default=None, primary_key=True)
    day: date
    source: str = Field(max_length=20)
    requests: int = 0


class PackageRequests(SQLModel, table=True):
    """How often each package was asked about, per source and month: what the registries
    served on behalf of the companies using it (their "registry footprint")."""

    __tablename__ = "package_requests"
    __table_args__ = (UniqueConstraint("month", "source", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    month: str = Field(max_length=7)  # "YYYY-MM"
    source: str = Field(max_length=20)
    key: str = Field(max_length=500, index=True)  # the package key, as in metadata_cache
    sent: int = 0  # requests sent (conditional ones included)
    not_modified: int = 0  # of which the source answered 304: nothing transferred
    from_cache: int = 0  # answers the shared cache gave within its TTL: nothing sent
