"""Builders for test data: the smallest valid object, with anything overridable."""

from __future__ import annotations

import itertools

from sqlmodel import Session

from service.accounts.models import User
from service.companies.models import Company, Membership, Role
from service.projects.models import Project

_ids = itertools.count(5000)


def make_user(session: Session, login: str | None = None, **fields) -> User:
    number = next(_ids)
    user = User(github_id=fields.pop("github_id", number), login=login or f"user{number}", **fields)
    session.add(user)
    session.commit()
    return user


def make_company(
    session: Session,
    slug: str | None = None,
    *,
    members: list[tuple[User, Role]] | None = None,
    **fields,
) -> Company:
    number = next(_ids)
    company = Company(
        slug=slug or f"company{number}",
        name=fields.pop("name", f"Company {number}"),
        currency=fields.pop("currency", "USD"),
        monthly_budget_minor=fields.pop("monthly_budget_minor", 100_000),
        **fields,
    )
    session.add(company)
    session.flush()
    for user, role in members or []:
        session.add(Membership(company_id=company.id, user_id=user.id, role=role))
    session.commit()
    return company


def make_project(session: Session, key: str = "github.com/octo/widget", **fields) -> Project:
    """A project (a source repository) with its key split as resolution stores it."""
    host, owner, name = key.split("/")
    project = Project(
        key=key, host=host, owner=owner, name=name, repository_url=f"https://{key}", **fields
    )
    session.add(project)
    session.commit()
    return project
