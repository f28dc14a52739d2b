"""A company's dependence on projects, read from each product's latest SBOM.

This is the one query that the risk score (products using a project, direct or not) and
the allocation (shallowest depth per product) both stand on.  Every company-facing query
of packages → projects goes through `CompanyResolution`, the one place that decides
which project a package is for one company.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, literal, null, or_, select
from sqlmodel import Session, col

from service.projects.links import LINKS_ABOVE_HINTS
from service.projects.models import (
    CompanyPackageLink,
    PackageResolution,
    Project,
    ResolutionStatus,
)
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


# The depth of a document's own root (GitHub's dependency-graph export lists the
# repository itself as a package): the company's product, never one of its dependencies.
ROOT_DEPTH = 0


def is_dependency() -> ColumnElement[bool]:
    """SQL condition: the component is something the product uses, not the product."""
    return or_(col(SbomComponent.depth).is_(None), col(SbomComponent.depth) > ROOT_DEPTH)


# Whether a company's own SBOM link decides a package's project: it names one, and the
# shared resolution names none or only from a weaker source than an SBOM's link.
_LINK_APPLIES = col(CompanyPackageLink.project_id).is_not(None) & or_(
    col(PackageResolution.project_id).is_(None),
    func.coalesce(PackageResolution.source, "").not_in(sorted(LINKS_ABOVE_HINTS)),
)


class CompanyResolution:
    """Which project a package is for one company: the shared resolution, or the company's
    own SBOM link where neither the purl nor a registry names a repository.

    Another company's links never enter: `join` reads this company's rows only. The
    columns are the same for every company (built once: building SQL costs more than
    running it on a page), the join's condition is what names the company.
    """

    project_id: ColumnElement[Any] = case(
        (_LINK_APPLIES, CompanyPackageLink.project_id), else_=PackageResolution.project_id
    )
    status: ColumnElement[Any] = case(
        (_LINK_APPLIES, literal(ResolutionStatus.resolved.value)),
        else_=func.coalesce(PackageResolution.status, ResolutionStatus.pending.value),
    )
    source: ColumnElement[Any] = case(
        (_LINK_APPLIES, literal("sbom")), else_=PackageResolution.source
    )
    reason: ColumnElement[Any] = case(
        (_LINK_APPLIES, null()),
        (
            col(CompanyPackageLink.note).is_not(None),
            func.coalesce(
                CompanyPackageLink.note + "; " + PackageResolution.reason,
                CompanyPackageLink.note,
            ),
        ),
        else_=PackageResolution.reason,
    )

    def __init__(self, company_id: int) -> None:
        self.company_id = company_id

    def join(self, query, package_id: Any):
        """`query` with the shared resolution and this company's link of `package_id`."""
        return query.outerjoin(
            PackageResolution, col(PackageResolution.package_id) == package_id
        ).outerjoin(
            CompanyPackageLink,
            and_(
                col(CompanyPackageLink.package_id) == package_id,
                CompanyPackageLink.company_id == self.company_id,
            ),
        )


def _merge_depth(current: int | None, new: int | None, seen: bool) -> int | None:
    if not seen:
        return new
    if current is None or new is None:
        return current if new is None else new
    return min(current, new)


def company_inventory(session: Session, company_id: int) -> CompanyInventory:
    resolution = CompanyResolution(company_id)
    query = (
        select(
            Product.name,
            SbomComponent.depth,
            SbomComponent.package_id,
            Package.ecosystem,
            Project.id,
            Project.key,
        )
        .join(Sbom, Sbom.id == SbomComponent.sbom_id)
        .join(Product, Product.id == Sbom.product_id)
        .join(Package, Package.id == SbomComponent.package_id)
    )
    rows = session.execute(
        resolution.join(query, SbomComponent.package_id)
        .outerjoin(Project, Project.id == resolution.project_id)
        .where(SbomComponent.sbom_id.in_(latest_sbom_ids(company_id)), is_dependency())
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
