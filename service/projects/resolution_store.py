"""Resolution's persistence: cache rows, package resolutions, projects and their people.

Every function takes the session and leaves the commit to its caller (the resolver
commits each batch on the calling thread).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, String, cast, delete, func, insert, update
from sqlmodel import Session, col, select

from service.db import insert_for, upsert
from service.projects import cache
from service.projects.funding import FundingChannel as ParsedChannel
from service.projects.links import (
    PACKAGE_SOURCES,
)
from service.projects.models import (
    CompanyPackageLink,
    FundingChannel,
    Maintainer,
    MetadataCacheEntry,
    OutboundUsage,
    PackageRequests,
    PackageResolution,
    Project,
    ResolutionStatus,
    as_utc,
)
from service.projects.providers import PackageMetadata
from service.projects.urls import RepoRef
from service.sboms.models import Package, Sbom, SbomComponent

MAX_MAINTAINERS = 50


MAX_REASON = 500


CACHE_COLUMNS = (
    "status",
    "etag",
    "last_modified",
    "fetched_at",
    "expires_at",
    "error",
    "attempts",
    "next_attempt_at",
    "data",
    "updated_at",
)


# Every write of a resolver run's transaction goes in key order, so runs writing the same
# rows at once lock them in one order and wait for each other instead of deadlocking.


def upsert_cache(session: Session, entries: list) -> None:
    rows = [
        {"source": e.source, "key": e.key, **{c: getattr(e, c) for c in CACHE_COLUMNS}}
        for e in sorted(entries, key=lambda e: (e.source, e.key))
    ]
    upsert(session, MetadataCacheEntry.__table__, rows, ["source", "key"], CACHE_COLUMNS)


REQUEST_COUNTERS = ("sent", "not_modified", "from_cache")


def add_package_requests(
    session: Session, month: str, counts: dict[tuple[str, str], dict[str, int]]
) -> None:
    """Add this batch's counts to each package's monthly row (one statement per chunk;
    concurrent workers add up, never overwrite)."""
    rows = [
        {"month": month, "source": source, "key": key, **{c: n.get(c, 0) for c in REQUEST_COUNTERS}}
        for (source, key), n in sorted(counts.items())
    ]
    if not rows:
        return
    insert = insert_for(session)
    table = PackageRequests.__table__
    for start in range(0, len(rows), 500):
        statement = insert(table)
        statement = statement.on_conflict_do_update(
            index_elements=["month", "source", "key"],
            set_={c: table.c[c] + getattr(statement.excluded, c) for c in REQUEST_COUNTERS},
        )
        session.exec(statement, params=rows[start : start + 500])


RESOLUTION_COLUMNS = (
    "project_id",
    "status",
    "reason",
    "source",
    "resolved_at",
    "attempts",
    "next_attempt_at",
    "updated_at",
)


def upsert_resolutions(session: Session, rows: list[dict[str, Any]]) -> None:
    rows = sorted(rows, key=lambda row: row["package_id"])
    upsert(session, PackageResolution.__table__, rows, ["package_id"], RESOLUTION_COLUMNS)


def ensure_projects(
    session: Session, repos: Iterable[RepoRef], github_host: str, now: datetime
) -> dict[str, int]:
    """Create the projects not known yet (insert-or-ignore) → {key: id}."""
    wanted = {repo.key: repo for repo in repos}
    if not wanted:
        return {}
    statement = insert_for(session)(Project.__table__).on_conflict_do_nothing(
        index_elements=["key"]
    )
    rows = [
        {
            "key": repo.key,
            "host": repo.host,
            "owner": repo.owner[:200],
            "name": repo.name[:100],
            "repository_url": repo.url,
            "repo_status": "pending" if repo.host == github_host else "unsupported",
            "created_at": now,
            "updated_at": now,
        }
        for _key, repo in sorted(wanted.items())
        if len(repo.key) <= 300
    ]
    for chunk in cache._chunks(rows, 500):
        session.exec(statement, params=list(chunk))
    ids: dict[str, int] = {}
    for chunk in cache._chunks(list(wanted), 500):
        ids.update(
            dict(
                session.exec(
                    select(Project.key, Project.id).where(col(Project.key).in_(chunk))
                ).all()
            )
        )
    return ids


def refresh_project_data(session: Session, project_ids: list[int], now: datetime) -> None:
    """Recompute what is known about these projects from the cached answers."""
    if not project_ids:
        return
    projects = {
        p.id: p for p in session.exec(select(Project).where(col(Project.id).in_(project_ids)))
    }
    package_keys: dict[int, list[str]] = defaultdict(list)
    rows = session.exec(
        select(PackageResolution.project_id, Package.key)
        .join(Package, col(Package.id) == PackageResolution.package_id)
        .where(col(PackageResolution.project_id).in_(project_ids))
        .order_by(col(Package.key))
    )
    for project_id, key in rows:
        package_keys[project_id].append(key)
    repo_keys = {pid: f"pkg:github/{p.owner}/{p.name}" for pid, p in projects.items()}
    all_keys = [k for keys in package_keys.values() for k in keys] + list(repo_keys.values())
    entries = cache.load_keys(session, all_keys)
    old_people = _existing(session, Maintainer, project_ids)
    old_channels = _existing(session, FundingChannel, project_ids)
    session.exec(delete(Maintainer).where(col(Maintainer.project_id).in_(project_ids)))
    session.exec(delete(FundingChannel).where(col(FundingChannel.project_id).in_(project_ids)))
    people_rows: list[dict[str, Any]] = []
    channel_rows: list[dict[str, Any]] = []
    for project_id, project in projects.items():
        answers: list[tuple[str, PackageMetadata]] = []
        for key in package_keys.get(project_id, []):
            for source in PACKAGE_SOURCES:
                entry = entries.get((source, key))
                metadata = cache.metadata_of(entry)
                if metadata is not None:
                    answers.append((source, metadata))
        repo_entry = entries.get(("github", repo_keys[project_id]))
        repo_meta = cache.metadata_of(repo_entry)
        _apply_repository_facts(project, repo_entry, repo_meta, answers, now)
        session.add(project)
        if repo_meta is not None:
            answers.append(("github", repo_meta))
        people_rows += _people_rows(project_id, answers, old_people, now)
        channel_rows += _channel_rows(project_id, answers, old_channels, now)
    for chunk in cache._chunks(people_rows, 500):
        session.exec(insert(Maintainer.__table__), params=list(chunk))
    for chunk in cache._chunks(channel_rows, 500):
        session.exec(insert(FundingChannel.__table__), params=list(chunk))


def _existing(session: Session, model, project_ids: list[int]) -> dict[tuple, datetime]:
    found: dict[tuple, datetime] = {}
    for row in session.exec(select(model).where(col(model.project_id).in_(project_ids))):
        if model is Maintainer:
            marker = (row.project_id, row.source, (row.login or "").lower(), row.name or "")
        else:
            marker = (row.project_id, row.kind, row.handle.lower(), row.source)
        found[marker] = as_utc(row.found_at)
    return found


def _apply_repository_facts(
    project: Project,
    repo_entry: cache.CacheRow | None,
    repo_meta: PackageMetadata | None,
    answers: list[tuple[str, PackageMetadata]],
    now: datetime,
) -> None:
    if repo_meta is not None:
        project.archived = repo_meta.archived
        project.pushed_at = repo_meta.pushed_at
        project.owner_type = repo_meta.owner_type
        project.description = repo_meta.description or project.description
        project.homepage = repo_meta.homepage or project.homepage
    if repo_entry is not None:
        project.repo_status = repo_entry.status  # ok | not_found | error
        project.repo_error = repo_entry.error if repo_entry.status != "ok" else None
        project.repo_checked_at = as_utc(repo_entry.updated_at)
    for _source, metadata in answers:
        if not project.description and metadata.description:
            project.description = metadata.description[:1000]
        if not project.homepage and metadata.homepage:
            project.homepage = metadata.homepage[:1000]
    project.updated_at = now


def _people_rows(
    project_id: int,
    answers: list[tuple[str, PackageMetadata]],
    old: dict[tuple, datetime],
    now: datetime,
) -> list[dict[str, Any]]:
    rows: dict[tuple, dict[str, Any]] = {}
    for source, metadata in answers:
        for person in (*metadata.maintainers, *metadata.contributors):
            login = (person.login or "").strip()[:100] or None
            name = (person.name or "").strip()[:200] or None
            if not login and not name:
                continue
            person_source = (person.source or source)[:40]
            marker = (project_id, person_source, (login or "").lower(), name or "")
            if marker in rows:
                continue
            rows[marker] = {
                "project_id": project_id,
                "login": login,
                "name": name,
                "role": (person.role or "maintainer")[:40],
                "source": person_source,
                "contributions": person.contributions,
                "found_at": old.get(marker, now),
            }
    return list(rows.values())[:MAX_MAINTAINERS]


def _channel_rows(
    project_id: int,
    answers: list[tuple[str, PackageMetadata]],
    old: dict[tuple, datetime],
    now: datetime,
) -> list[dict[str, Any]]:
    rows: dict[tuple, dict[str, Any]] = {}

    def add(kind: str, handle: str, url: str | None, source: str) -> None:
        marker = (project_id, kind, handle.lower()[:1000], source[:40])
        if marker in rows:
            return
        rows[marker] = {
            "project_id": project_id,
            "person_login": handle[:100] if kind == "github_sponsors" else None,
            "kind": kind[:40],
            "handle": handle[:1000],
            "url": url[:1000] if url else None,
            "source": source[:40],
            "found_at": old.get(marker, now),
        }

    for source, metadata in answers:
        for channel in metadata.funding:
            if isinstance(channel, ParsedChannel):
                add(channel.kind, channel.handle_or_url, channel.url, channel.source or source)
        for plan in metadata.funding_plans:
            amount = (
                f"{plan.amount_minor / 100:.2f} {plan.currency}"
                if plan.amount_minor is not None and plan.currency
                else "an amount"
            )
            label = f"{plan.name or 'plan'}: {amount} {plan.frequency}".strip()
            add("funding_json_plan", label, None, plan.source or "funding.json")
    return list(rows.values())


def inventory_hints(session: Session, package_ids: Sequence[int]) -> dict[int, dict[int, list]]:
    """{package id: {company id: hints}}: what each company's current inventory (the latest
    SBOM of each product) asserts about these packages, newest upload first so it wins
    among hints of one kind."""
    hints: dict[int, dict[int, list]] = defaultdict(lambda: defaultdict(list))
    latest = select(func.max(Sbom.id)).group_by(col(Sbom.product_id))
    rows = session.exec(
        select(SbomComponent.package_id, Sbom.company_id, SbomComponent.hints)
        .join(Sbom, col(Sbom.id) == SbomComponent.sbom_id)
        .where(
            col(SbomComponent.package_id).in_(package_ids),
            col(SbomComponent.sbom_id).in_(latest),
            cast(SbomComponent.hints, String) != "[]",
        )
        .order_by(col(SbomComponent.sbom_id).desc())
    )
    for package_id, company_id, hint_list in rows:
        known = hints[package_id][company_id]
        for hint in hint_list or []:
            if hint not in known:
                known.append(hint)
    return hints


def replace_company_links(
    session: Session, package_ids: list[int], rows: list[dict[str, Any]]
) -> None:
    """These packages' company links become ``rows``: upserted, then the links they no
    longer hold deleted, so two runs writing the same links at once both succeed (the
    later one's rows stay) where a delete-then-insert collides on the key."""
    keys = ["company_id", "package_id"]
    rows = sorted(rows, key=lambda row: (row["company_id"], row["package_id"]))
    upsert(session, CompanyPackageLink.__table__, rows, keys)
    asserted = {(row["company_id"], row["package_id"]) for row in rows}
    link = CompanyPackageLink
    for chunk in cache._chunks(sorted(set(package_ids)), 500):
        held = session.exec(
            select(link.id, link.company_id, link.package_id)
            .where(col(link.package_id).in_(chunk))
            .order_by(col(link.id))
        )
        gone = [id_ for id_, company, package in held if (company, package) not in asserted]
        if gone:
            session.exec(delete(link).where(col(link.id).in_(gone)))


def retry_project_by(session: Session, repo_key: str, retry: datetime) -> None:
    """The packages of this repository's project are due again by ``retry`` at the latest."""
    project_ids = select(Project.id).where(Project.key == repo_key)
    session.exec(
        update(PackageResolution)
        .where(
            col(PackageResolution.project_id).in_(project_ids),
            col(PackageResolution.next_attempt_at) > retry,
        )
        .values(next_attempt_at=retry)
    )


def versions_in_use(session: Session, package_ids: Sequence[int]) -> dict[int, str]:
    """Each package's version in its newest stored component (for per-version sources)."""
    newest = (
        select(func.max(SbomComponent.id))
        .where(
            col(SbomComponent.package_id).in_(package_ids),
            col(SbomComponent.version).is_not(None),
        )
        .group_by(col(SbomComponent.package_id))
    )
    rows = session.exec(
        select(SbomComponent.package_id, SbomComponent.version).where(
            col(SbomComponent.id).in_(newest)
        )
    )
    return {package_id: version for package_id, version in rows if package_id and version}


def due_filter(now: datetime):
    """SQL condition: a package whose resolution is missing, pending or due again."""
    from sqlalchemy import or_

    return or_(
        col(PackageResolution.package_id).is_(None),
        PackageResolution.status == ResolutionStatus.pending.value,
        col(PackageResolution.next_attempt_at) <= now,
    )


def status_counts(package_ids_query) -> Select:
    """(status, n) for the packages the subquery selects (missing rows count as pending)."""
    status = func.coalesce(PackageResolution.status, ResolutionStatus.pending.value)
    return (
        select(status, func.count())
        .select_from(package_ids_query)
        .outerjoin(
            PackageResolution,
            col(PackageResolution.package_id) == package_ids_query.c.package_id,
        )
        .group_by(status)
    )


def record_usage(session: Session, counts: dict[str, int], day: date) -> None:
    """Add requests sent to the day's count per source (`metadata stats`), in one statement
    that adds up when another worker counts the same day and source at once."""
    rows = [
        {"day": day, "source": source[:20], "requests": requests}
        for source, requests in sorted(counts.items())
    ]
    if not rows:
        return
    table = OutboundUsage.__table__
    statement = insert_for(session)(table)
    statement = statement.on_conflict_do_update(
        index_elements=["day", "source"],
        set_={"requests": table.c.requests + statement.excluded.requests},
    )
    session.exec(statement, params=rows)
