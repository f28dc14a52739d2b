"""The one place that decides whether a request may see a company's data.

A company the caller is not a member of answers 404, exactly as one that does not exist,
so slugs of other tenants cannot be probed.
"""

from __future__ import annotations

from functools import wraps

from flask import abort, g

from service.accounts.auth import current_user, require_user
from service.companies.models import Company, Role
from service.companies.services import companies_of, memberships_of
from service.db import db_session


def my_companies() -> list[tuple[Company, Role]]:
    """The signed-in person's companies for the menu, read once a request: a company page
    has already read them to find its own (one query serves both)."""
    if "my_companies" not in g:
        user = current_user()
        g.my_companies = companies_of(db_session(), user) if user else []
    return g.my_companies


def company_view(minimum: Role = Role.viewer):
    """Decorate a view taking `slug`: loads g.company and g.membership or answers 404/403."""

    def decorate(view):
        @wraps(view)
        def wrapper(slug: str, **kwargs):
            user = require_user()
            mine = memberships_of(db_session(), user.id)
            g.my_companies = [(company, membership.role) for company, membership in mine]
            found = next((row for row in mine if row[0].slug == slug), None)
            if found is None:
                abort(404)
            g.company, g.membership = found
            if not g.membership.role.at_least(minimum):
                abort(403, description=f"This needs the {minimum.value} role or higher.")
            return view(slug=slug, **kwargs)

        return wrapper

    return decorate
