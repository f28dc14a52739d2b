"""The one place that decides whether a request may see a company's data.

A company the caller is not a member of answers 404, exactly as one that does not exist,
so slugs of other tenants cannot be probed.
"""

from __future__ import annotations

from functools import wraps

from flask import abort, g
from sqlmodel import Session, select

from service.accounts.auth import require_user
from service.companies.models import Company, Membership, Role
from service.db import db_session


def membership_for(session: Session, user_id: int, slug: str) -> tuple[Company, Membership] | None:
    row = session.exec(
        select(Company, Membership)
        .join(Membership, Membership.company_id == Company.id)
        .where(Company.slug == slug, Membership.user_id == user_id)
    ).first()
    return (row[0], row[1]) if row else None


def company_view(minimum: Role = Role.viewer):
    """Decorate a view taking `slug`: loads g.company and g.membership or answers 404/403."""

    def decorate(view):
        @wraps(view)
        def wrapper(slug: str, **kwargs):
            user = require_user()
            found = membership_for(db_session(), user.id, slug)
            if found is None:
                abort(404)
            g.company, g.membership = found
            if not g.membership.role.at_least(minimum):
                abort(403, description=f"This needs the {minimum.value} role or higher.")
            return view(slug=slug, **kwargs)

        return wrapper

    return decorate
