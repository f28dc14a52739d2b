"""Bearer-token authentication for the JSON API: tokens belong to one company and carry scopes."""

from __future__ import annotations

from functools import wraps

from flask import g, request

from service.audit.services import Actor
from service.companies.models import ApiToken, Company
from service.companies.services import authenticate_token
from service.core.errors import ApiError
from service.db import db_session


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def authenticate(plaintext: str | None, scope: str) -> ApiToken:
    """The token's row (last-used time updated), or a 401/403 ApiError naming the problem."""
    if not plaintext:
        raise ApiError(401, "unauthorized", "Send an API token as 'Authorization: Bearer <token>'.")
    session = db_session()
    token = authenticate_token(session, plaintext)
    if token is None:
        raise ApiError(401, "unauthorized", "The API token is unknown or has been revoked.")
    if scope not in token.scopes:
        raise ApiError(
            403,
            "insufficient_scope",
            f"This token lacks the '{scope}' scope.",
            {"required_scope": scope},
        )
    return token


def token_required(scope: str):
    """Decorate an API view taking `slug`: sets g.company and g.api_token, or answers 4xx."""

    def decorate(view):
        @wraps(view)
        def wrapper(slug: str, **kwargs):
            token = authenticate(bearer_token(), scope)
            company = db_session().get(Company, token.company_id)
            # Another company's slug answers exactly like a missing one.
            if company is None or company.slug != slug:
                raise ApiError(404, "not_found", f"No company {slug!r} for this token.")
            g.api_token, g.company = token, company
            return view(slug=slug, **kwargs)

        return wrapper

    return decorate


def token_actor() -> Actor:
    return Actor(token_id=g.api_token.id)
