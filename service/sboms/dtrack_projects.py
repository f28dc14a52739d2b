"""Dependency-Track's projects over Tributary's product versions: how they are shown,
found by UUID or name, put under a parent, and changed by a PATCH.

A project is one version of a product; its parent and tags belong to the product, so
every version shows them.
"""

from __future__ import annotations

import uuid as uuid_module
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, func, select

from service.companies.models import Company
from service.core.errors import ApiError
from service.sboms import services
from service.sboms.models import Product, ProductVersion, Sbom


def epoch_ms(moment: datetime | None) -> int | None:
    """Dependency-Track's dates: milliseconds since the epoch."""
    return None if moment is None else int(moment.timestamp() * 1000)


def _format_name(sbom: Sbom | None) -> str | None:
    if sbom is None:
        return None
    names = {"cyclonedx": "CycloneDX", "spdx": "SPDX"}
    return f"{names.get(sbom.format, sbom.format)} {sbom.spec_version}".strip()


@dataclass(frozen=True)
class Project:
    """One version of a product: a Dependency-Track project."""

    version: ProductVersion
    product: Product


def project_json(
    session: Session, project: Project, *, with_versions: bool = False
) -> dict[str, Any]:
    """A project with the fields of Dependency-Track's Project model; absent values are
    left out, as Dependency-Track leaves out nulls."""
    row, product = project.version, project.product
    sbom = session.get(Sbom, row.sbom_id) if row.sbom_id else None
    body: dict[str, Any] = {
        "uuid": row.uuid,
        "name": product.name,
        "version": row.version or None,
        "active": row.active,
        "isLatest": row.is_latest,
        "tags": [{"name": tag} for tag in product.tags],
        "lastBomImport": epoch_ms(row.last_bom_import),
        "lastBomImportFormat": _format_name(sbom),
        "parent": _parent_json(session, product),
    }
    if with_versions:
        body["versions"] = [
            {
                "uuid": other.uuid,
                "version": other.version or None,
                "active": other.active,
                "isLatest": other.is_latest,
            }
            for other in _versions(session, product)
        ]
    return {key: value for key, value in body.items() if value is not None}


def _parent_json(session: Session, product: Product) -> dict[str, Any] | None:
    if product.parent_id is None:
        return None
    parent = session.get(Product, product.parent_id)
    if parent is None:
        return None
    row = services.find_version(session, parent, product.parent_version) or _newest(session, parent)
    body = {"uuid": row.uuid if row else parent.uuid, "name": parent.name}
    if product.parent_version:
        body["version"] = product.parent_version
    return body


def _versions(session: Session, product: Product) -> list[ProductVersion]:
    return list(
        session.exec(
            select(ProductVersion)
            .where(ProductVersion.product_id == product.id)
            .order_by(col(ProductVersion.id))
        )
    )


def _newest(session: Session, product: Product) -> ProductVersion | None:
    """The version uploaded last (the first recorded if none was)."""
    return session.exec(
        select(ProductVersion)
        .where(ProductVersion.product_id == product.id)
        .order_by(col(ProductVersion.last_bom_import).desc().nulls_last(), col(ProductVersion.id))
        .limit(1)
    ).first()


def matching_projects(
    session: Session,
    company: Company,
    *,
    name: str = "",
    text: str | None = None,
    active_only: bool = False,
    roots_only: bool = False,
    offset: int = 0,
    limit: int = 100,
) -> tuple[list[Project], int]:
    """A page of the company's projects (its product versions, by name and version): of
    exactly `name`, with `text` in the name, active, without a parent; and the total."""
    query = (
        select(ProductVersion, Product)
        .join(Product, col(Product.id) == ProductVersion.product_id)
        .where(Product.company_id == company.id)
    )
    if name:
        query = query.where(Product.name == name)
    if text:
        query = query.where(func.lower(Product.name).contains(text.lower(), autoescape=True))
    if active_only:
        query = query.where(col(ProductVersion.active).is_(True))
    if roots_only:
        query = query.where(col(Product.parent_id).is_(None))
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(
        query.order_by(
            func.lower(Product.name), col(ProductVersion.version), col(ProductVersion.id)
        )
        .offset(offset)
        .limit(limit)
    ).all()
    return [Project(*row) for row in rows], total


def find_project(session: Session, company: Company, project_uuid: str) -> Project:
    """The company's project with this UUID, or 404 as Dependency-Track answers it."""
    missing = ApiError(404, "project_not_found", "The project could not be found.")
    return _by_uuid(session, company, parse_uuid(project_uuid, "The project UUID"), missing)


def _by_uuid(session: Session, company: Company, wanted: str, missing: ApiError) -> Project:
    found = session.exec(
        select(ProductVersion, Product)
        .join(Product, col(Product.id) == ProductVersion.product_id)
        .where(ProductVersion.company_id == company.id, ProductVersion.uuid == wanted)
    ).first()
    if found is None:
        raise missing
    return Project(*found)


def parse_uuid(value: str, what: str) -> str:
    try:
        return str(uuid_module.UUID(value))
    except ValueError:
        raise ApiError(
            400, "invalid_request", f"{what} must be a UUID, got {value[:60]!r}."
        ) from None


def apply_patch(
    session: Session, company: Company, project: Project, changes: dict[str, Any]
) -> list[str]:
    """Apply the fields Tributary keeps; return the names of those that changed."""
    row, product = project.version, project.product
    for field, current in (("name", product.name), ("version", row.version or None)):
        if changes.get(field) is not None and changes[field] != current:
            raise ApiError(
                400,
                "invalid_request",
                f"Tributary does not change a project's {field} here; upload under the "
                f"new {field} instead.",
                {"field": field},
            )
    changed = []
    for field in ("active", "isLatest"):
        value = changes.get(field)
        if value is None:
            continue
        if not isinstance(value, bool):
            raise ApiError(400, "invalid_request", f"{field} must be true or false.")
        attribute = "active" if field == "active" else "is_latest"
        if getattr(row, attribute) != value:
            if field == "isLatest" and value:
                clear_latest(session, product)
            setattr(row, attribute, value)
            changed.append(field)
    tags = changes.get("tags")
    if tags is not None and (tags or product.tags):
        wanted = tag_names(tags)
        if wanted != product.tags:
            product.tags = wanted
            changed.append("tags")
    parent = changes.get("parent")
    if parent is not None:
        if not isinstance(parent, dict) or not parent.get("uuid"):
            raise ApiError(
                400, "invalid_request", "parent.uuid must be provided when parent is set"
            )
        found = parent_by_uuid(session, company, str(parent["uuid"]))
        if set_parent(session, product, found):
            changed.append("parent")
    session.add_all([row, product])
    return changed


def place_upload(
    session: Session,
    result: services.IngestResult,
    *,
    parent: Project | None,
    tags: list[str] | None,
    is_latest: bool,
) -> None:
    """What an upload says of its project beside the BOM: its parent, more tags, and
    whether its version is now the product's latest."""
    product = result.product
    if parent is not None:
        set_parent(session, product, parent)
    if tags:
        product.tags = list(dict.fromkeys(product.tags + tags))
        session.add(product)
    if is_latest and not result.version.is_latest:
        clear_latest(session, product)
        result.version.is_latest = True
        session.add(result.version)


def clear_latest(session: Session, product: Product) -> None:
    for other in _versions(session, product):
        if other.is_latest:
            other.is_latest = False
            session.add(other)


def tag_names(tags: Any) -> list[str]:
    """Tag names from Dependency-Track's [{"name": ...}] (plain strings are read too)."""
    if not isinstance(tags, list):
        raise ApiError(400, "invalid_request", 'tags must be a list of {"name": ...} objects.')
    names = []
    for tag in tags:
        name = tag.get("name") if isinstance(tag, dict) else tag
        if not isinstance(name, str) or "\x00" in name:
            raise ApiError(400, "invalid_request", "Each tag needs a name (text).")
        name = name.strip().lower()[:255]  # Dependency-Track keeps tags lower case
        if name and name not in names:
            names.append(name)
    return names


def parent_by_uuid(session: Session, company: Company, parent_uuid: str) -> Project:
    missing = ApiError(404, "parent_not_found", "The parent project could not be found.")
    return _by_uuid(session, company, parse_uuid(parent_uuid, "The parent UUID"), missing)


def parent_by_name(session: Session, company: Company, name: str, version: str | None) -> Project:
    product = services.find_product(session, company, name)
    row = None
    if product is not None:
        row = services.find_version(session, product, version) if version else None
        row = row or (None if version else _newest(session, product))
    if product is None or row is None:
        raise ApiError(
            404,
            "parent_not_found",
            "The parent project could not be found.",
            {"parentName": name, "parentVersion": version},
        )
    return Project(row, product)


def set_parent(session: Session, product: Product, parent: Project) -> bool:
    """Put the product under the parent's product; 409 for a loop, as Dependency-Track."""
    ancestor: Product | None = parent.product
    while ancestor is not None:
        if ancestor.id == product.id:
            raise ApiError(
                409,
                "parent_loop",
                "A project cannot be its own parent, nor sit under one of its children.",
            )
        ancestor = session.get(Product, ancestor.parent_id) if ancestor.parent_id else None
    version = parent.version.version
    if (product.parent_id, product.parent_version) == (parent.product.id, version):
        return False
    product.parent_id, product.parent_version = parent.product.id, version
    session.add(product)
    return True
