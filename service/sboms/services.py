"""Storing SBOMs: products, uploads, their components, and the queries the pages need.

Like every service here, these functions take the session and an Actor, write their audit
event and leave the commit to the caller, so an upload lands whole or not at all. (Batch
work that must commit per item, the GitHub import, lives in `github_import`.)

`ingest` parses before it writes anything: an unreadable document raises SbomError with
the session untouched. Packages and components are bulk rows written through each
database's fast path (`storage`: COPY on PostgreSQL, executemany on SQLite; no ORM object
per component), so a 100,000 component document stays within seconds and a few hundred MB.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from service.audit.services import Actor, record
from service.companies.models import Company
from service.core.clock import utcnow
from service.core.collector import collector_paused
from service.core.services import get_settings
from service.sboms.diff import compute_diff, first_diff, versions_by_package
from service.sboms.models import (
    KEY_LENGTH,
    NAME_LENGTH,
    SOURCES,
    VERSION_LENGTH,
    BomToken,
    Package,
    Product,
    ProductVersion,
    Sbom,
    SbomComponent,
)
from service.sboms.parsing import Component, ParsedSbom, ParseLimits, SbomError, parse_sbom
from service.sboms.queueing import queue_resolution
from service.sboms.storage import component_rows, identity_of, store_components, store_packages

PRODUCT_NAME_LENGTH = 200
# Warnings kept in a stored summary; `warning_count` always has the full number.
STORED_WARNINGS = 100


class IngestError(SbomError):
    """An upload that cannot be stored for a reason outside the document (bad product name).

    A subclass of SbomError so callers handle both alike: nothing was stored.
    """


@dataclass(frozen=True)
class IngestResult:
    sbom: Sbom
    product: Product
    created: bool  # False when the same bytes were already stored for this product
    summary: dict[str, Any]
    diff: dict[str, Any]
    version: ProductVersion  # the version the upload named, with its new last import
    new_version: bool  # the upload named a version the product had not seen
    # The document as read (None when the same bytes were stored already): a command
    # that ends its process with it need not free it first.
    parsed: ParsedSbom | None = None


# Products --------------------------------------------------------------------------------


def normalize_product_name(name: str | None) -> str:
    """The product name as stored, or IngestError saying what is wrong with it."""
    cleaned = unicodedata.normalize("NFC", (name or "").strip())
    if not cleaned:
        raise IngestError(
            "invalid_product", "The product needs a name (e.g. the repository or service name)."
        )
    if len(cleaned) > PRODUCT_NAME_LENGTH:
        raise IngestError(
            "invalid_product",
            f"The product name is {len(cleaned)} characters long; the limit is "
            f"{PRODUCT_NAME_LENGTH}.",
            {"length": len(cleaned), "limit": PRODUCT_NAME_LENGTH},
        )
    if any(unicodedata.category(ch) in ("Cc", "Cf") for ch in cleaned):
        raise IngestError(
            "invalid_product", "The product name contains control characters; remove them."
        )
    return cleaned


def find_product(session: Session, company: Company, name: str) -> Product | None:
    return session.exec(
        select(Product).where(Product.company_id == company.id, Product.name == name)
    ).first()


def product_by_id(session: Session, company: Company, product_id: int) -> Product | None:
    return session.exec(
        select(Product).where(Product.company_id == company.id, Product.id == product_id)
    ).first()


def product_by_uuid(session: Session, company: Company, uuid: str) -> Product | None:
    return session.exec(
        select(Product).where(Product.company_id == company.id, Product.uuid == uuid.lower())
    ).first()


def _get_or_create_product(session: Session, actor: Actor, company: Company, name: str) -> Product:
    product = find_product(session, company, name)
    if product is not None:
        return product
    try:
        # A savepoint: if a concurrent upload created the same product first, the unique
        # constraint fires here and we use theirs instead of failing the upload.
        with session.begin_nested():
            product = Product(company_id=company.id, name=name)
            session.add(product)
            session.flush()
    except IntegrityError:
        product = find_product(session, company, name)
        if product is None:
            raise
        return product
    record(session, actor, "product.created", company_id=company.id, obj=product, name=product.name)
    return product


# Ingest ----------------------------------------------------------------------------------


def upload_limits() -> ParseLimits:
    """Parser limits for uploads: the configured size applies after decompression too."""
    settings = get_settings()
    return ParseLimits(
        max_bytes=settings.max_upload_bytes,
        max_components=settings.max_components_per_sbom,
        max_bytes_per_day=settings.max_sbom_bytes_per_day,
    )


# One pause of the collector for the whole upload, not only its parse: storing it walks
# the same millions of objects (see service.core.collector).
@collector_paused()
def ingest(
    session: Session,
    actor: Actor,
    company: Company,
    product_name: str,
    data: bytes,
    *,
    source: str,
    digest: str | None = None,
    filename: str | None = None,
    project_version: str | None = None,
    limits: ParseLimits | None = None,
) -> IngestResult:
    """Parse and store one SBOM for a product (created on first upload); `digest` is the
    data's SHA-256 (hex) when the caller took it already.

    Raises SbomError (IngestError for a bad product name) before anything is written.
    The same bytes uploaded again for the same product return the stored SBOM with
    `created=False` and write nothing.
    """
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}")
    name = normalize_product_name(product_name)
    digest = digest or hashlib.sha256(data).hexdigest()
    product = find_product(session, company, name)
    if product is not None:
        existing = _sbom_by_digest(session, product, digest)
        if existing is not None:
            # Nothing new to store, but the upload names its version and is its latest.
            return _result(session, existing, product, project_version, created=False)

    limits = limits or ParseLimits()
    _check_daily_bytes(session, company, len(data), limits.max_bytes_per_day)
    parsed = parse_sbom(data, limits=limits)

    # Nothing above wrote anything; from here on the caller's transaction holds it all.
    product = _get_or_create_product(session, actor, company, name)
    components = parsed.components
    package_ids = store_packages(session, _packages_of(components))
    diff = _diff_with_latest(session, product, components)
    sbom = Sbom(
        product_id=product.id,
        company_id=company.id,
        content_sha256=digest,
        source=source,
        filename=clip(filename, 255),
        project_version=clip(project_version, 255),
        uploaded_by_user_id=actor.user_id,
        uploaded_by_token_id=actor.token_id,
        size_bytes=len(data),
        diff=diff,
        **_parsed_fields(parsed),
    )
    stored = _stored(session, sbom, product)
    if stored is not sbom:
        return _result(session, stored, product, project_version, created=False)
    store_components(session, component_rows(sbom.id, components, package_ids))
    # Resolution (projects domain) runs in the background, queued in this transaction.
    queue_resolution(session, sbom)
    _record_upload(session, actor, sbom, product, diff)
    return _result(session, sbom, product, project_version, created=True, parsed=parsed)


def _parsed_fields(parsed: ParsedSbom) -> dict[str, Any]:
    """The stored SBOM's columns that come from its reading."""
    return {
        "format": parsed.format,
        "spec_version": clip(parsed.spec_version, 40) or "",
        "encoding": parsed.encoding,
        "component_count": len(parsed.components),
        "summary": stored_summary(parsed),
    }


def _diff_with_latest(session: Session, product: Product, components: list) -> dict[str, Any]:
    """What changed against the product's latest SBOM (everything is new for a first one)."""
    previous = latest_sbom(session, product)
    if previous is None:
        # Counted only: for 100,000 components 0.01 s, where grouping their versions
        # takes 0.06 s.
        return first_diff(len(set(map(identity_of, components))))
    current = versions_by_package((identity_of(c), c.version) for c in components)
    previous_versions = _package_versions(session, previous.id)
    return compute_diff(previous_versions, current, previous_sbom_id=previous.id)


def _stored(session: Session, sbom: Sbom, product: Product) -> Sbom:
    """Insert the new SBOM; if a concurrent request stored the same bytes for the product
    first, that one (the insert undone by its savepoint)."""
    try:
        with session.begin_nested():
            session.add(sbom)
            session.flush()
    except IntegrityError:
        existing = _sbom_by_digest(session, product, sbom.content_sha256)
        if existing is None:
            raise
        return existing
    return sbom


def _record_upload(
    session: Session, actor: Actor, sbom: Sbom, product: Product, diff: dict[str, Any]
) -> None:
    record(
        session,
        actor,
        "sbom.uploaded",
        company_id=sbom.company_id,
        obj=sbom,
        product=product.name,
        product_id=product.id,
        source=sbom.source,
        filename=sbom.filename,
        sha256=sbom.content_sha256,
        components=sbom.component_count,
        added=diff["added_count"],
        removed=diff["removed_count"],
        changed=diff["changed_count"],
    )


def _result(
    session: Session,
    sbom: Sbom,
    product: Product,
    project_version: str | None,
    *,
    created: bool,
    parsed: ParsedSbom | None = None,
) -> IngestResult:
    version, new_version = record_version(session, product, project_version, sbom)
    return IngestResult(
        sbom, product, created, sbom.summary, sbom.diff, version, new_version, parsed
    )


# Versions --------------------------------------------------------------------------------


def version_key(version: str | None) -> str:
    """A version as stored: "" for none (unique constraints let NULLs repeat)."""
    return clip((version or "").strip(), VERSION_LENGTH) or ""


def find_version(session: Session, product: Product, version: str | None) -> ProductVersion | None:
    return session.exec(
        select(ProductVersion).where(
            ProductVersion.product_id == product.id, ProductVersion.version == version_key(version)
        )
    ).first()


def record_version(
    session: Session, product: Product, version: str | None, sbom: Sbom
) -> tuple[ProductVersion, bool]:
    """Record that an accepted upload of `sbom` names `version`: the version is created
    on first use (the product's first takes the product's UUID) and its last import is
    now, a repeated upload of the same bytes included. Returns (version, created)."""
    row = find_version(session, product, version)
    created = row is None
    if row is None:
        first = session.exec(
            select(func.count()).where(ProductVersion.product_id == product.id)
        ).one()
        try:
            with session.begin_nested():  # a concurrent upload may name it first
                row = ProductVersion(
                    product_id=product.id,
                    company_id=product.company_id,
                    version=version_key(version),
                    **({"uuid": product.uuid} if first == 0 else {}),
                )
                session.add(row)
                session.flush()
        except IntegrityError:
            row = find_version(session, product, version)
            if row is None:
                raise
            created = False
    row.sbom_id = sbom.id
    row.last_bom_import = utcnow()
    session.add(row)
    session.flush()
    return row, created


def _check_daily_bytes(session: Session, company: Company, size: int, limit: int | None) -> None:
    """Refuse an upload that would take the company past its bytes for today (UTC)."""
    if limit is None:
        return
    today = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
    stored = session.exec(
        select(func.coalesce(func.sum(Sbom.size_bytes), 0)).where(
            Sbom.company_id == company.id, col(Sbom.created_at) >= today
        )
    ).one()
    if stored + size > limit:
        raise IngestError(
            "daily_limit",
            f"This upload ({size} bytes) would take the company past its limit of {limit} "
            f"bytes of SBOMs a day ({stored} stored today, UTC); try again tomorrow or ask "
            "the operator to raise TRIBUTARY_MAX_SBOM_BYTES_PER_DAY",
            {"limit": limit, "stored_today": int(stored), "size": size},
        )


def stored_summary(parsed: ParsedSbom) -> dict[str, Any]:
    """The parser's summary, with its warnings cut to a storable number."""
    summary = parsed.summary()
    warnings = summary.get("warnings") or []
    summary["warning_count"] = len(warnings)
    summary["warnings"] = warnings[:STORED_WARNINGS]
    return summary


def clip(value: str | None, length: int) -> str | None:
    return value[:length] if value else value


def _sbom_by_digest(session: Session, product: Product, digest: str) -> Sbom | None:
    return session.exec(
        select(Sbom).where(Sbom.product_id == product.id, Sbom.content_sha256 == digest)
    ).first()


def _packages_of(components: Iterable[Component]) -> dict[str, tuple[str, str]]:
    """key -> (ecosystem, name) for every component whose purl gave a storable key."""
    packages: dict[str, tuple[str, str]] = {}
    for component in components:
        key = component.package_key
        if key is None or key in packages or len(key) > KEY_LENGTH:
            continue
        kind, _, path = key.partition("/")
        ecosystem = component.ecosystem or kind.removeprefix("pkg:")
        name = unquote(path) if "%" in path else path
        packages[key] = (ecosystem[:40], name[:NAME_LENGTH])
    return packages


def _package_versions(session: Session, sbom_id: int) -> dict[str, set[str | None]]:
    """identity -> versions of one stored SBOM, in one query."""
    query = (
        select(func.coalesce(Package.key, SbomComponent.identity), SbomComponent.version)
        .select_from(SbomComponent)
        .outerjoin(Package, col(Package.id) == SbomComponent.package_id)
        .where(SbomComponent.sbom_id == sbom_id)
    )
    return versions_by_package(session.exec(query))


# Reading ---------------------------------------------------------------------------------


def latest_sbom(session: Session, product: Product) -> Sbom | None:
    return session.exec(
        select(Sbom)
        .where(Sbom.product_id == product.id, Sbom.company_id == product.company_id)
        .order_by(col(Sbom.id).desc())
        .limit(1)
    ).first()


@dataclass(frozen=True)
class ProductRow:
    product: Product
    latest: Sbom | None
    sbom_count: int


def products_of(session: Session, company: Company) -> list[ProductRow]:
    """Every product of the company with its latest SBOM, by name."""
    counts = (
        select(
            Sbom.product_id,
            func.max(Sbom.id).label("latest_id"),
            func.count(col(Sbom.id)).label("sboms"),
        )
        .where(Sbom.company_id == company.id)
        .group_by(col(Sbom.product_id))
        .subquery()
    )
    query = (
        select(Product, Sbom, counts.c.sboms)
        .outerjoin(counts, counts.c.product_id == Product.id)
        .outerjoin(Sbom, col(Sbom.id) == counts.c.latest_id)
        .where(Product.company_id == company.id)
        .order_by(func.lower(Product.name), col(Product.id))
    )
    return [
        ProductRow(product, latest, count or 0) for product, latest, count in session.exec(query)
    ]


def latest_sboms(session: Session, company: Company) -> list[Sbom]:
    """The active inventory of each product: its most recent SBOM."""
    return [row.latest for row in products_of(session, company) if row.latest is not None]


def product_history(
    session: Session, company: Company, product: Product, *, limit: int | None = None
) -> list[Sbom]:
    """The product's SBOMs, newest first."""
    query = (
        select(Sbom)
        .where(Sbom.company_id == company.id, Sbom.product_id == product.id)
        .order_by(col(Sbom.id).desc())
    )
    if limit:
        query = query.limit(limit)
    return list(session.exec(query))


def sbom_of_product(
    session: Session, company: Company, product: Product, sbom_id: int
) -> Sbom | None:
    return session.exec(
        select(Sbom).where(
            Sbom.id == sbom_id, Sbom.company_id == company.id, Sbom.product_id == product.id
        )
    ).first()


def versions_of(session: Session, product: Product) -> list[ProductVersion]:
    """The versions the product's uploads named, the most recently uploaded first."""
    return list(
        session.exec(
            select(ProductVersion)
            .where(ProductVersion.product_id == product.id)
            .order_by(
                col(ProductVersion.last_bom_import).desc().nulls_last(),
                col(ProductVersion.id).desc(),
            )
        )
    )


def children_of(session: Session, product: Product) -> list[Product]:
    """The products placed under this one, by name."""
    return list(
        session.exec(
            select(Product)
            .where(Product.company_id == product.company_id, Product.parent_id == product.id)
            .order_by(func.lower(Product.name))
        )
    )


# Dependency-Track tokens -------------------------------------------------------------------


def bom_token_for(session: Session, company: Company, sbom: Sbom) -> BomToken:
    """The polling token of an upload; a repeated upload gets the token of the first."""
    token = session.exec(
        select(BomToken)
        .where(BomToken.company_id == company.id, BomToken.sbom_id == sbom.id)
        .order_by(col(BomToken.id))
    ).first()
    if token is None:
        token = BomToken(company_id=company.id, sbom_id=sbom.id)
        session.add(token)
        session.flush()
    return token


# JSON shapes -----------------------------------------------------------------------------


def product_json(product: Product) -> dict[str, Any]:
    return {
        "id": product.id,
        "name": product.name,
        "uuid": product.uuid,
        "created_at": product.created_at.isoformat(),
        "tags": list(product.tags),
        "parent_id": product.parent_id,
    }


def sbom_json(sbom: Sbom) -> dict[str, Any]:
    return {
        "id": sbom.id,
        "product_id": sbom.product_id,
        "created_at": sbom.created_at.isoformat(),
        "sha256": sbom.content_sha256,
        "format": sbom.format,
        "spec_version": sbom.spec_version,
        "encoding": sbom.encoding,
        "source": sbom.source,
        "filename": sbom.filename,
        "project_version": sbom.project_version,
        "components": sbom.component_count,
        "summary": sbom.summary,
        "diff": sbom.diff,
    }
