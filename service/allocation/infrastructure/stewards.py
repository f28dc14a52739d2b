"""Registry stewards as recipients, and what a proposal needs to pay them.

A steward is stored as a project row of its own (key ``infrastructure/<id>``, host
``infrastructure``) with the table's channels as its funding channels: lines, review
adjustments, pledges and exports then treat it like any payee, and every place that
must tell the two apart asks :func:`is_infrastructure`. Its repository facts are never
read (``repo_status`` "unsupported").
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from sqlalchemy import delete, select
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
from service.projects.models import FundingChannel, Project
from service.sboms.models import Package, Product, Sbom, SbomComponent

HOST = "infrastructure"
CHANNEL_SOURCE = "registry table"


def is_infrastructure(key: str) -> bool:
    return key.startswith(HOST + "/")


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
                host=HOST,
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
