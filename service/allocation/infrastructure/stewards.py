"""Registry stewards as recipients, and what a proposal needs to pay them.

A steward is stored as a project row of its own (key ``infrastructure/<id>``, host
``infrastructure``) with the table's channels as its funding channels: lines, review
adjustments, pledges and exports then treat it like any payee, and every place that
must tell the two apart asks :func:`service.projects.models.is_infrastructure`. Its
repository facts are never read (``repo_status`` "unsupported").
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from sqlalchemy import delete, func, select
from sqlmodel import Session

from service.allocation.infrastructure.split import (
    InfrastructurePlan,
    PackageUse,
    ecosystem_dependence,
    plan_infrastructure,
)
from service.allocation.infrastructure.table import RegistryTable, load_table
from service.allocation.policy import Policy
from service.core.clock import utcnow
from service.projects.inventory import latest_sbom_ids
from service.projects.models import (
    INFRASTRUCTURE_HOST,
    FundingChannel,
    PackageRequests,
    Project,
)
from service.sboms.models import Package, Product, Sbom, SbomComponent

CHANNEL_SOURCE = "registry table"


@lru_cache(maxsize=4)
def registry_table(path: Path | None = None) -> RegistryTable:
    """The operator's table (setting ``infrastructure_table``) or the shipped one."""
    return load_table(path)


def package_uses(session: Session, company_id: int) -> list[PackageUse]:
    """Every package of each product's latest SBOM, with its depth there."""
    rows = session.execute(
        select(Package.key, Package.ecosystem, Product.name, SbomComponent.depth)
        .join(Sbom, Sbom.id == SbomComponent.sbom_id)
        .join(Product, Product.id == Sbom.product_id)
        .join(Package, Package.id == SbomComponent.package_id)
        .where(SbomComponent.sbom_id.in_(latest_sbom_ids(company_id)))
    )
    return [PackageUse(key, ecosystem, product, depth) for key, ecosystem, product, depth in rows]


def plan_for(
    session: Session, company_id: int, table: RegistryTable, policy: Policy, budget: int
) -> InfrastructurePlan:
    dependence = ecosystem_dependence(package_uses(session, company_id), policy)
    return plan_infrastructure(dependence, table, policy, budget)


def steward_project_ids(
    session: Session, plan: InfrastructurePlan, table: RegistryTable
) -> dict[str, int]:
    """{steward key: project id} for the plan's payable stewards, stored with their channels."""
    ids: dict[str, int] = {}
    for candidate in plan.candidates():
        steward = table.by_key(candidate.key)
        if steward is None:  # the table changed since the plan was made
            continue
        project = session.execute(
            select(Project).where(Project.key == steward.key)
        ).scalar_one_or_none()
        if project is None:
            project = Project(
                key=steward.key,
                host=INFRASTRUCTURE_HOST,
                owner=steward.id,
                name=steward.id,
                repository_url=steward.channels[0].url,
                repo_status="unsupported",
            )
        project.description = f"{steward.name}, run by {steward.steward}: {steward.note}"
        project.homepage = steward.channels[0].url
        project.updated_at = utcnow()
        session.add(project)
        session.flush()
        # The table is the only source of a steward's channels: replace them as it says.
        session.execute(
            delete(FundingChannel).where(
                FundingChannel.project_id == project.id, FundingChannel.source == CHANNEL_SOURCE
            )
        )
        for channel in steward.channels:
            session.add(
                FundingChannel(
                    project_id=project.id,
                    kind=channel.platform,
                    handle=channel.handle,
                    url=channel.url,
                    source=CHANNEL_SOURCE,
                )
            )
        ids[steward.key] = project.id
    return ids


@dataclass(frozen=True, slots=True)
class SourceFootprint:
    """What one source served this month for the company's packages."""

    source: str
    packages: int
    sent: int  # requests Tributary sent (conditional ones included)
    not_modified: int  # of which answered 304: nothing transferred
    from_cache: int  # answers the shared cache gave instead: nothing sent

    @property
    def avoided(self) -> int:
        """Full downloads saved: cache answers plus conditional requests answered 304."""
        return self.from_cache + self.not_modified


def registry_footprint(session: Session, company_id: int, month: str) -> list[SourceFootprint]:
    """Per source, the requests sent and avoided this month for the company's packages
    (its products' latest SBOMs). A package several companies use counts for each."""
    keys = (
        select(Package.key)
        .join(SbomComponent, SbomComponent.package_id == Package.id)
        .where(SbomComponent.sbom_id.in_(latest_sbom_ids(company_id)))
        .distinct()
        .scalar_subquery()
    )
    rows = session.execute(
        select(
            PackageRequests.source,
            func.count(),
            func.sum(PackageRequests.sent),
            func.sum(PackageRequests.not_modified),
            func.sum(PackageRequests.from_cache),
        )
        .where(PackageRequests.month == month, PackageRequests.key.in_(keys))
        .group_by(PackageRequests.source)
        .order_by(PackageRequests.source)
    ).all()
    return [
        SourceFootprint(source, int(count), int(sent or 0), int(nm or 0), int(hits or 0))
        for source, count, sent, nm, hits in rows
    ]
