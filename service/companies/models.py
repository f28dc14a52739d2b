"""Companies, their members and invitations, linked GitHub organisations and API tokens."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, BigInteger, Column, Enum, UniqueConstraint
from sqlmodel import Field, SQLModel

from service.core.clock import utcnow


class Role(enum.StrEnum):
    """Member roles, weakest first; a role includes every right of the roles before it."""

    viewer = "viewer"
    reviewer = "reviewer"
    owner = "owner"

    @property
    def rank(self) -> int:
        return list(Role).index(self)

    def at_least(self, other: Role) -> bool:
        return self.rank >= other.rank


def role_column() -> Column:
    # Stored as text, not a native enum type: adding a role later needs no type migration.
    return Column(Enum(Role, native_enum=False, length=16), nullable=False)


class Company(SQLModel, table=True):
    __tablename__ = "companies"

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=40, unique=True, index=True)
    name: str = Field(max_length=200)
    currency: str = Field(default="USD", max_length=3)
    monthly_budget_minor: int = Field(default=0, ge=0, sa_type=BigInteger)
    created_at: datetime = Field(default_factory=utcnow)


class Membership(SQLModel, table=True):
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("company_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    company_id: int = Field(foreign_key="companies.id", index=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    role: Role = Field(default=Role.viewer, sa_column=role_column())
    created_at: datetime = Field(default_factory=utcnow)


class Invitation(SQLModel, table=True):
    __tablename__ = "invitations"

    id: int | None = Field(default=None, primary_key=True)
    company_id: int = Field(foreign_key="companies.id", index=True)
    # Lower-cased GitHub login; matched when that person next signs in.
    github_login: str = Field(max_length=39, index=True)
    role: Role = Field(default=Role.viewer, sa_column=role_column())
    invited_by_id: int | None = Field(default=None, foreign_key="users.id")
    created_at: datetime = Field(default_factory=utcnow)
    accepted_at: datetime | None = None
    accepted_by_id: int | None = Field(default=None, foreign_key="users.id")
    revoked_at: datetime | None = None


class LinkedOrg(SQLModel, table=True):
    __tablename__ = "linked_orgs"
    __table_args__ = (UniqueConstraint("company_id", "org_login"),)

    id: int | None = Field(default=None, primary_key=True)
    company_id: int = Field(foreign_key="companies.id", index=True)
    org_login: str = Field(max_length=39, index=True)
    linked_by_id: int | None = Field(default=None, foreign_key="users.id")
    linked_at: datetime = Field(default_factory=utcnow)


class ApiToken(SQLModel, table=True):
    __tablename__ = "api_tokens"

    id: int | None = Field(default=None, primary_key=True)
    company_id: int = Field(foreign_key="companies.id", index=True)
    name: str = Field(max_length=100)
    # The first characters of the token, shown so people can tell tokens apart.
    prefix: str = Field(max_length=16)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    scopes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_by_id: int | None = Field(default=None, foreign_key="users.id")
    created_at: datetime = Field(default_factory=utcnow)
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None
