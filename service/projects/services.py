"""Resolution as the rest of Tributary uses it: queue it, run it, read its results.

SBOM ingest queues an SBOM's resolution in the upload's own transaction
(`service.sboms.queueing`): resolution never runs inside the upload request, the task
queue runs it (`tributary scheduler`, or `tributary jobs run-pending`). `run_resolution`
is the one entry point for the task, the nightly refresh, `tributary resolve` and the
benchmark.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import String, cast, exists, func, literal, or_, union_all, update
from sqlmodel import Session, col, select

from service.companies.models import Membership
from service.core.clock import utcnow
from service.core.services import get_settings
from service.db import Database, one_of
from service.jobs.models import Task, TaskStatus
from service.jobs.queue import enqueue
from service.projects.inventory import CompanyResolution, is_dependency
from service.projects.models import (
    CompanyPackageLink,
    FundingChannel,
    Maintainer,
    OutboundUsage,
    PackageResolution,
    Project,
    ProjectClaim,
    ResolutionStatus,
)
from service.projects.providers import Provider
from service.projects.resolution import ResolutionReport, Resolver
from service.projects.resolution_store import due_filter, status_counts
from service.projects.sources import app_providers, get_outbound
from service.sboms.models import Package, Product, Sbom, SbomComponent
from service.sboms.queueing import RESOLVE_SBOM, sbom_task_key

RESOLVE_DUE = "projects.resolve_due"


# Queueing ------------------------------------------------------------------------------------


def resolve_again(session: Session, sbom: Sbom) -> Task:
    """Queue the SBOM's resolution again, its failed packages retried now rather than after
    their backoff (the page's "resolve again"), in the caller's transaction."""
    packages = sbom_package_ids(session, [sbom.id])
    session.exec(
        update(PackageResolution)
        .where(
            PackageResolution.status == ResolutionStatus.error.value,
            col(PackageResolution.package_id).in_(select(packages.c.package_id)),
        )
        .values(next_attempt_at=utcnow())
    )
    return enqueue(
        session,
        RESOLVE_SBOM,
        {"sbom_id": sbom.id, "retry_now": True},
        unique_key=sbom_task_key(sbom.id),
        company_id=sbom.company_id,
    )


def queue_retry(session: Session, when: datetime) -> Task:
    """Queue a run for packages whose sources failed, once their backoff has run out."""
    # Keyed by the minute it is due: a run that is itself a retry can queue the next one.
    return enqueue(
        session, RESOLVE_DUE, {}, unique_key=f"resolve:due:{when:%Y%m%d%H%M}", run_after=when
    )


# Choosing packages ------------------------------------------------------------------------------


def sbom_package_ids(session: Session, sbom_ids: Iterable[int]) -> Any:
    """A subquery (column package_id) of the distinct packages of these SBOMs."""
    return (
        select(SbomComponent.package_id)
        .where(one_of(session, col(SbomComponent.sbom_id), sbom_ids))
        .where(col(SbomComponent.package_id).is_not(None), is_dependency())
        .distinct()
        .subquery()
    )


def due_package_ids(
    session: Session,
    now: datetime,
    *,
    sbom_ids: Iterable[int] | None = None,
    include_fresh: bool = False,
    limit: int | None = None,
) -> list[int]:
    """Packages (of these SBOMs, or of every active inventory) that need resolving now."""
    if sbom_ids is None:
        sbom_ids = active_sbom_ids(session)
    packages = sbom_package_ids(session, sbom_ids)
    query = select(packages.c.package_id).outerjoin(
        PackageResolution, col(PackageResolution.package_id) == packages.c.package_id
    )
    if not include_fresh:
        query = query.where(due_filter(now))
    query = query.order_by(packages.c.package_id)
    if limit:
        query = query.limit(limit)
    return list(session.exec(query).all())


def linked_package_ids(session: Session, sbom: Sbom) -> list[int]:
    """The SBOM's packages that it links to a repository itself, or that its company had
    linked: the company's links follow its new upload at once, due or not."""
    linked = select(CompanyPackageLink.package_id).where(
        CompanyPackageLink.company_id == sbom.company_id
    )
    return list(
        session.exec(
            select(SbomComponent.package_id)
            .where(
                SbomComponent.sbom_id == sbom.id,
                col(SbomComponent.package_id).is_not(None),
                or_(
                    cast(SbomComponent.hints, String) != "[]",
                    col(SbomComponent.package_id).in_(linked),
                ),
            )
            .distinct()
        ).all()
    )


def active_sbom_ids(session: Session, company_id: int | None = None) -> list[int]:
    """The latest SBOM of every product (of one company, or of all)."""
    query = select(func.max(Sbom.id)).group_by(col(Sbom.product_id))
    if company_id is not None:
        query = query.where(Sbom.company_id == company_id)
    return [row for row in session.exec(query).all() if row is not None]


# Running ----------------------------------------------------------------------------------------


def run_resolution(
    database: Database,
    package_ids: Iterable[int],
    *,
    now: datetime | None = None,
    providers: dict[str, Provider] | None = None,
    offline: bool = False,
    snapshot: str | Path | None = None,
    progress=None,
    retry_now: bool = False,
) -> ResolutionReport:
    """Resolve packages with the app's sources; records request counts; queues retries."""
    app = current_app
    settings = get_settings()
    now = now or utcnow()
    if providers is None:
        providers = app_providers(app, offline=offline, snapshot=snapshot)
    report = Resolver(
        database,
        providers,
        now=now,
        ttl=timedelta(days=settings.metadata_ttl_days),
        workers=settings.resolution_workers,
        retry_now=retry_now,
        progress=progress,
        sent=get_outbound(app).counts,
    ).run(package_ids)
    if report.retry_at is not None:
        with database.transaction() as session:
            queue_retry(session, report.retry_at)
    return report


def usage(session: Session, since: date) -> dict[str, int]:
    rows = session.exec(
        select(OutboundUsage.source, func.sum(OutboundUsage.requests))
        .where(OutboundUsage.day >= since)
        .group_by(col(OutboundUsage.source))
    ).all()
    return {source: int(total or 0) for source, total in rows}


# Reading: progress, company projects, product packages ------------------------------------------


@dataclass(frozen=True)
class Progress:
    total: int  # packages with a purl
    resolved: int
    unresolved: int
    errors: int
    pending: int
    without_purl: int  # components without a readable purl: never resolvable
    queued: bool  # a resolution task for it is queued or running

    @property
    def done(self) -> int:
        return self.total - self.pending

    @property
    def percent(self) -> int:
        return 100 if not self.total else int(100 * self.done / self.total)

    @property
    def refreshing(self) -> bool:
        """Whether a page showing it should reload itself (work is under way)."""
        return self.queued and self.pending > 0


# Labels of progress_of's two counts among its statuses (no status starts with ":").
WITHOUT_PURL, QUEUED = ":without_purl", ":queued"


def progress_of(session: Session, sbom_ids: list[int], task_keys: list[str]) -> Progress:
    if not sbom_ids:
        return Progress(0, 0, 0, 0, 0, 0, queued=False)
    # One round trip: the packages by status, the components without a purl and the
    # queued tasks.
    without = (
        select(literal(WITHOUT_PURL), func.count())
        .select_from(SbomComponent)
        .where(
            one_of(session, col(SbomComponent.sbom_id), sbom_ids),
            col(SbomComponent.package_id).is_(None),
        )
    )
    queued = (
        select(literal(QUEUED), func.count())
        .select_from(Task)
        .where(
            one_of(session, col(Task.unique_key), task_keys),
            col(Task.status).in_([TaskStatus.queued, TaskStatus.running]),
        )
    )
    statuses = status_counts(sbom_package_ids(session, sbom_ids))
    counts = dict(session.exec(union_all(statuses, without, queued)).all())
    without_purl, tasks = counts.pop(WITHOUT_PURL), counts.pop(QUEUED)
    return Progress(
        total=sum(counts.values()),
        resolved=counts.get("resolved", 0),
        unresolved=counts.get("unresolved", 0),
        errors=counts.get("error", 0),
        pending=counts.get("pending", 0),
        without_purl=without_purl,
        queued=tasks > 0,
    )


def sbom_progress(session: Session, sbom: Sbom) -> Progress:
    return progress_of(session, [sbom.id], [sbom_task_key(sbom.id)])


def inventory_progress(session: Session, sbom_ids: list[int]) -> Progress:
    """Resolution progress of these SBOMs (a company's active inventory) together."""
    return progress_of(session, sbom_ids, [sbom_task_key(i) for i in sbom_ids])


@dataclass(frozen=True)
class ProjectRow:
    project: Project
    packages: int
    products: int
    depth: int | None  # shallowest depth in these SBOMs (None: unknown)


def projects_of_sboms(
    session: Session, company_id: int, sbom_ids: list[int], *, limit: int = 200, offset: int = 0
) -> tuple[list[ProjectRow], int]:
    """Projects behind the company's SBOMs' packages, most used first, and how many."""
    if not sbom_ids:
        return [], 0
    resolution = CompanyResolution(company_id)
    query = (
        select(
            col(Project.id).label("project_id"),
            func.count(func.distinct(SbomComponent.package_id)).label("packages"),
            func.count(func.distinct(Sbom.product_id)).label("products"),
            func.min(SbomComponent.depth).label("depth"),
        )
        .select_from(SbomComponent)
        .join(Sbom, col(Sbom.id) == SbomComponent.sbom_id)
    )
    base = (
        resolution.join(query, SbomComponent.package_id)
        .join(Project, col(Project.id) == resolution.project_id)
        .where(
            one_of(session, col(SbomComponent.sbom_id), sbom_ids),
            Sbom.company_id == company_id,
            is_dependency(),
        )
        .group_by(col(Project.id))
        .subquery()
    )
    rows = session.exec(
        # How many there are, from the same pass that sorts them.
        select(Project, base.c.packages, base.c.products, base.c.depth, func.count().over())
        .join(base, base.c.project_id == Project.id)
        .order_by(base.c.products.desc(), func.coalesce(base.c.depth, 99), col(Project.key))
        .offset(offset)
        .limit(limit)
    ).all()
    if rows:
        total = rows[0][4]
    else:  # none at all, or a page past the end
        total = session.exec(select(func.count()).select_from(base)).one() if offset else 0
    return [ProjectRow(p, n, m, d) for p, n, m, d, _ in rows], total


@dataclass(frozen=True)
class PackageRow:
    key: str
    status: str
    reason: str | None
    source: str | None
    project_key: str | None


def packages_of_sboms(
    session: Session,
    company_id: int,
    sbom_ids: list[int],
    *,
    statuses: Iterable[str] | None = None,
    limit: int = 200,
) -> list[PackageRow]:
    """The company's SBOMs' packages with their resolution as the company sees it."""
    if not sbom_ids:
        return []
    packages = sbom_package_ids(session, sbom_ids)
    resolution = CompanyResolution(company_id)
    status = resolution.status
    query = resolution.join(
        select(Package.key, status, resolution.reason, resolution.source, Project.key)
        .select_from(packages)
        .join(Package, col(Package.id) == packages.c.package_id),
        Package.id,
    ).outerjoin(Project, col(Project.id) == resolution.project_id)
    if statuses is not None:
        query = query.where(status.in_(list(statuses)))
    rows = session.exec(query.order_by(col(Package.key)).limit(limit)).all()
    return [PackageRow(*row) for row in rows]


def product_of(session: Session, company_id: int, product_id: int) -> Product | None:
    return session.exec(
        select(Product).where(Product.id == product_id, Product.company_id == company_id)
    ).first()


# The public project page --------------------------------------------------------------------------


def project_by_key(session: Session, key: str) -> Project | None:
    return session.exec(select(Project).where(Project.key == key)).first()


def only_company_linked(session: Session, project: Project) -> bool:
    """Whether the project is known only from companies' own SBOM links (no package of the
    shared resolution, no claim): its page would reveal what a company's SBOM holds."""
    shared = select(PackageResolution.package_id).where(PackageResolution.project_id == project.id)
    claimed = select(ProjectClaim.id).where(ProjectClaim.project_id == project.id)
    linked = select(CompanyPackageLink.id).where(CompanyPackageLink.project_id == project.id)
    return bool(session.exec(select(exists(linked) & ~exists(shared) & ~exists(claimed))).one())


def linked_for_member(session: Session, project: Project, user_id: int) -> bool:
    """Whether a company the user belongs to links the project from its own SBOMs: its
    members may open the page their proposal and project list point to."""
    linked = (
        select(CompanyPackageLink.id)
        .join(Membership, col(Membership.company_id) == CompanyPackageLink.company_id)
        .where(CompanyPackageLink.project_id == project.id, Membership.user_id == user_id)
    )
    return bool(session.exec(select(exists(linked))).one())


def project_packages(session: Session, project: Project) -> list[tuple[str, str, str | None]]:
    """(package key, ecosystem, link source) of every package mapped to the project."""
    rows = session.exec(
        select(Package.key, Package.ecosystem, PackageResolution.source)
        .join(PackageResolution, col(PackageResolution.package_id) == Package.id)
        .where(PackageResolution.project_id == project.id)
        .order_by(col(Package.key))
        .limit(500)
    ).all()
    return [tuple(row) for row in rows]


def found_maintainers(session: Session, project: Project) -> list[Maintainer]:
    return list(
        session.exec(
            select(Maintainer)
            .where(Maintainer.project_id == project.id)
            .order_by(
                col(Maintainer.source), col(Maintainer.contributions).desc(), col(Maintainer.id)
            )
        )
    )


def funding_channels(session: Session, project: Project) -> list[FundingChannel]:
    return list(
        session.exec(
            select(FundingChannel)
            .where(FundingChannel.project_id == project.id)
            .order_by(col(FundingChannel.kind), col(FundingChannel.handle))
        )
    )
