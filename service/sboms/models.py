"""Products, their SBOMs and the components each SBOM lists; packages shared by everyone.

A product belongs to one company and keeps every SBOM uploaded for it: the latest one is
the product's inventory, the earlier ones are its history. Packages (purl identities
without version) are one row per identity across ALL companies, so what is learnt about a
package later (source repository, maintainers) is learnt once.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from service.core.clock import utcnow

# Column widths; longer values are cut on the way in (see services.clip).
NAME_LENGTH = 500
VERSION_LENGTH = 255
PURL_LENGTH = 1000
KEY_LENGTH = 500
IDENTITY_LENGTH = 1000
SOURCES = ("web", "api", "dependency-track", "github", "cli")


def new_uuid() -> str:
    return str(uuid.uuid4())


class Product(SQLModel, table=True):
    __tablename__ = "products"
    __table_args__ = (UniqueConstraint("company_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    company_id: int = Field(foreign_key="companies.id", index=True)
    name: str = Field(max_length=200)
    # Stable public id: what Dependency-Track clients send as `project`. It is also the
    # UUID of the product's first version (see ProductVersion).
    uuid: str = Field(default_factory=new_uuid, max_length=36, unique=True, index=True)
    created_at: datetime = Field(default_factory=utcnow)
    # The product this one is part of (Dependency-Track's parent project: the parent
    # product and the version of it named, "" for none), and the product's labels.
    parent_id: int | None = Field(default=None, foreign_key="products.id", index=True)
    parent_version: str = Field(default="", max_length=VERSION_LENGTH)
    tags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class ProductVersion(SQLModel, table=True):
    """One version of a product as its uploads name it (`projectVersion`, `?version=`).

    Dependency-Track keeps each name + version as a project of its own; Tributary keeps
    one product and records its versions here, each with the UUID a Dependency-Track
    client sees as that project's, its active flag and the time of its last upload.
    """

    __tablename__ = "product_versions"
    __table_args__ = (UniqueConstraint("product_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    product_id: int = Field(foreign_key="products.id", index=True)
    company_id: int = Field(foreign_key="companies.id", index=True)
    uuid: str = Field(default_factory=new_uuid, max_length=36, unique=True, index=True)
    # "" for uploads that name no version (unique constraints treat NULLs as distinct).
    version: str = Field(default="", max_length=VERSION_LENGTH)
    active: bool = True
    is_latest: bool = False
    # The latest upload under this version; the same bytes may serve several versions.
    sbom_id: int | None = Field(default=None, foreign_key="sboms.id", index=True)
    last_bom_import: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class Sbom(SQLModel, table=True):
    __tablename__ = "sboms"
    # Same bytes for the same product are stored once: re-uploads are idempotent.
    __table_args__ = (UniqueConstraint("product_id", "content_sha256"),)

    id: int | None = Field(default=None, primary_key=True)
    product_id: int = Field(foreign_key="products.id", index=True)
    # Denormalized from the product so every tenant filter is one column away.
    company_id: int = Field(foreign_key="companies.id", index=True)
    content_sha256: str = Field(max_length=64)
    format: str = Field(max_length=20)
    spec_version: str = Field(max_length=40)
    encoding: str = Field(max_length=20)
    source: str = Field(max_length=20)
    filename: str | None = Field(default=None, max_length=255)
    project_version: str | None = Field(default=None, max_length=255)
    uploaded_by_user_id: int | None = Field(default=None, foreign_key="users.id")
    uploaded_by_token_id: int | None = Field(default=None, foreign_key="api_tokens.id")
    created_at: datetime = Field(default_factory=utcnow)
    component_count: int = 0
    # The upload's size as received (counted against the company's daily limit).
    size_bytes: int = Field(default=0, sa_type=BigInteger)
    summary: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    diff: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class Package(SQLModel, table=True):
    """One package identity (purl without version), shared by every company."""

    __tablename__ = "packages"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=KEY_LENGTH, unique=True, index=True)
    ecosystem: str = Field(max_length=40)
    name: str = Field(max_length=NAME_LENGTH)


class SbomComponent(SQLModel, table=True):
    """One component line of one SBOM; written in bulk, never one ORM object at a time."""

    __tablename__ = "sbom_components"
    # The inventory page and allocation read "the packages of this SBOM".
    __table_args__ = (Index("ix_sbom_components_sbom_id_package_id", "sbom_id", "package_id"),)

    id: int | None = Field(default=None, primary_key=True)
    # Indexed by the composite index above (its first column), not twice.
    sbom_id: int = Field(foreign_key="sboms.id")
    # Null for components without a readable purl; `identity` names those.
    package_id: int | None = Field(default=None, foreign_key="packages.id", index=True)
    name: str | None = Field(default=None, max_length=NAME_LENGTH)
    version: str | None = Field(default=None, max_length=VERSION_LENGTH)
    purl: str | None = Field(default=None, max_length=PURL_LENGTH)
    depth: int | None = None
    identity: str | None = Field(default=None, max_length=IDENTITY_LENGTH)
    hints: list[Any] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class BomToken(SQLModel, table=True):
    """The token a Dependency-Track client polls after an upload."""

    __tablename__ = "bom_tokens"

    id: int | None = Field(default=None, primary_key=True)
    uuid: str = Field(default_factory=new_uuid, max_length=36, unique=True, index=True)
    company_id: int = Field(foreign_key="companies.id", index=True)
    sbom_id: int | None = Field(default=None, foreign_key="sboms.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)


class GitHubImport(SQLModel, table=True):
    """One import of a linked organisation's dependency graphs, run from the task queue:
    its state and each repository's outcome as it goes, for the page that follows it."""

    __tablename__ = "github_imports"

    id: int | None = Field(default=None, primary_key=True)
    company_id: int = Field(foreign_key="companies.id", index=True)
    org: str = Field(max_length=100)
    # Whose GitHub sign-in reads the graphs (the token itself never leaves the user row).
    requested_by_user_id: int = Field(foreign_key="users.id")
    status: str = Field(default="queued", max_length=20)  # queued running done failed
    total: int | None = None  # repositories found, once listed
    outcomes: list[Any] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    error: str | None = Field(default=None, max_length=2000)
    created_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None
