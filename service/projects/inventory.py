"""A company's dependence on projects, read from each product's latest SBOM.

This is the one query that the risk score (products using a project, direct or not) and
the allocation (shallowest depth per product) both stand on.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlmodel import Session

from service.projects.models import PackageResolution, Project
from service.sboms.models import Package, Product, Sbom, SbomComponent


@dataclass
class ProjectUse:
    """How one company uses one project: shallowest depth per product (None = unknown)."""

    project_id: int
    key: str
    depths: dict[str, int | None] = field(default_factory=dict)
    ecosystems: set[str] = field(default_factory=set)
    package_ids: set[int] = field(default_factory=set)

    @property
    def direct(self) -> bool:
        return any(depth == 1 for depth in self.depths.values())

    @property
    def shallowest(self) -> int | None:
        known = [depth for depth in self.depths.values() if depth is not None]
        return min(known) if known else None


@dataclass
class CompanyInventory:
    products: list[str]
    projects: dict[int, ProjectUse]
    packages_total: int
    packages_unresolved: int


def latest_sbom_ids(company_id: int):
    """Subquery: the id of each product's latest SBOM (ids only grow, so max is latest)."""
    return (
        select(func.max(Sbom.id))
        .where(Sbom.company_id == company_id)
        .group_by(Sbom.product_id)
        .scalar_subquery()
    )


def _merge_depth(current: int | None, new: int | None, seen: bool) -> int | None:
    if not seen:
        return new
    if current is None or new is None:
        return current if new is None else new
    return min(current, new)


def company_inventory(session: Session, company_id: int) -> CompanyInventory:
    rows = session.execute(
        select(
            Product.name,
            SbomComponent.depth,
            SbomComponent.package_id,
            Package.ecosystem,
            PackageResolution.project_id,
            Project.key,
        )
        .join(Sbom, Sbom.id == SbomComponent.sbom_id)
        .join(Product, Product.id == Sbom.product_id)
        .join(Package, Package.id == SbomComponent.package_id)
        .outerjoin(PackageResolution, PackageResolution.package_id == SbomComponent.package_id)
        .outerjoin(Project, Project.id == PackageResolution.project_id)
        .where(SbomComponent.sbom_id.in_(latest_sbom_ids(company_id)))
    )
    products = set(
        session.execute(
            select(Product.name)
            .join(Sbom, Sbom.product_id == Product.id)
            .where(Sbom.id.in_(latest_sbom_ids(company_id)))
        ).scalars()
    )
    projects: dict[int, ProjectUse] = {}
    packages: set[int] = set()
    unresolved: set[int] = set()
    seen_depth: dict[tuple[int, str], bool] = defaultdict(bool)
    for product, depth, package_id, ecosystem, project_id, key in rows:
        packages.add(package_id)
        if project_id is None:
            unresolved.add(package_id)
            continue
        use = projects.setdefault(project_id, ProjectUse(project_id, key))
        use.depths[product] = _merge_depth(
            use.depths.get(product), depth, seen_depth[(project_id, product)]
        )
        seen_depth[(project_id, product)] = True
        use.ecosystems.add(ecosystem)
        use.package_ids.add(package_id)
    return CompanyInventory(
        products=sorted(products),
        projects=projects,
        packages_total=len(packages),
        packages_unresolved=len(unresolved),
    )
