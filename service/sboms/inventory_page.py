"""One SBOM's components as its page lists them: filtered, ordered by package, in pages."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from service.sboms.models import Package, Sbom, SbomComponent


@dataclass(frozen=True)
class InventoryFilters:
    text: str | None = None  # substring of name, purl or package key
    ecosystem: str | None = None
    direct_only: bool = False
    unresolved_only: bool = False  # components without a package (no readable purl)


@dataclass(frozen=True)
class InventoryLine:
    name: str | None
    version: str | None
    purl: str | None
    depth: int | None
    package_key: str | None
    ecosystem: str | None
    identity: str | None
    hints: list[Any]


@dataclass(frozen=True)
class InventoryPage:
    lines: list[InventoryLine]
    page: int
    per_page: int
    total: int
    ecosystems: list[tuple[str, int]] = field(default_factory=list)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def inventory(
    session: Session,
    sbom: Sbom,
    page: int = 1,
    per_page: int = 50,
    filters: InventoryFilters | None = None,
) -> InventoryPage:
    """One page of an SBOM's components, ordered by package then version."""
    per_page = max(1, min(per_page, 500))
    page = max(1, page)
    base = _filtered_components(sbom, filters or InventoryFilters())
    total = session.exec(select(func.count()).select_from(base.subquery())).one()
    rows = session.exec(
        base.order_by(
            func.coalesce(Package.key, SbomComponent.identity),
            col(SbomComponent.version),
            col(SbomComponent.id),
        )
        .offset((page - 1) * per_page)
        .limit(per_page)
    )
    lines = [
        InventoryLine(
            name=component.name,
            version=component.version,
            purl=component.purl,
            depth=component.depth,
            package_key=key,
            ecosystem=ecosystem,
            identity=component.identity,
            hints=component.hints or [],
        )
        for component, key, ecosystem in rows
    ]
    ecosystems = session.exec(
        select(Package.ecosystem, func.count())
        .select_from(SbomComponent)
        .join(Package, col(Package.id) == SbomComponent.package_id)
        .where(SbomComponent.sbom_id == sbom.id)
        .group_by(col(Package.ecosystem))
        .order_by(func.count().desc(), col(Package.ecosystem))
    ).all()
    return InventoryPage(lines, page, per_page, total, [(e, n) for e, n in ecosystems])


def _filtered_components(sbom: Sbom, filters: InventoryFilters) -> Any:
    """The SBOM's components with their package, narrowed by the page's filters."""
    base = (
        select(SbomComponent, Package.key, Package.ecosystem)
        .outerjoin(Package, col(Package.id) == SbomComponent.package_id)
        .where(SbomComponent.sbom_id == sbom.id)
    )
    if filters.text:
        pattern = f"%{filters.text.lower()}%"
        base = base.where(
            or_(
                func.lower(SbomComponent.name).like(pattern),
                func.lower(SbomComponent.purl).like(pattern),
                func.lower(Package.key).like(pattern),
                func.lower(SbomComponent.identity).like(pattern),
            )
        )
    if filters.ecosystem:
        base = base.where(Package.ecosystem == filters.ecosystem)
    if filters.direct_only:
        base = base.where(SbomComponent.depth == 1)
    if filters.unresolved_only:
        base = base.where(col(SbomComponent.package_id).is_(None))
    return base
