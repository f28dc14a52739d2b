"""The API against its own OpenAPI document, with generated (and hostile) input: no 5xx,
and every answer as documented (status, content type, headers, body schema)."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import (
    allow_header_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    unsupported_method,
)

from service.api.openapi import openapi_document
from service.audit.services import Actor
from service.companies.services import SCOPES, create_token
from tests.factories import make_company

SLUG = "acme"
# Checks that cannot hold where the document cannot say it:
EXCLUDED = {
    # an SBOM is any bytes to the schema, whether they are one is the parser's to say; and
    # risk_min must not exceed risk_max, a rule between two parameters;
    positive_data_acceptance: {
        "/companies/{slug}/products/{product}/sboms",
        "/bom",
        "/companies/{slug}/dependencies",
    },
    # PATCH /project/lookup is a PATCH of the project whose UUID would be "lookup" (404):
    # the two paths overlap, as they do in Dependency-Track.
    unsupported_method: {"/project/lookup"},
    allow_header_conformance: {"/project/lookup"},
    # A page number without a page size is not read at all, as Dependency-Track does; and
    # the pledge list ignores query parameters it does not know, as every list endpoint
    # does (the document cannot say "any other parameter is ignored").
    negative_data_rejection: {"/project", "/companies/{slug}/pledges"},
}


class TestApp:
    """The WSGI app schemathesis calls (every request, the checks' own probes too): the
    current test's app, in process."""

    app = None

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


SERVED = TestApp()
schema = schemathesis.openapi.from_dict(openapi_document())
schema.app = SERVED
schema.location = "/api/v1/openapi.json"


@pytest.fixture
def app_overrides() -> dict:
    # Hundreds of requests from one client in a test: the limits are tested elsewhere.
    return {"rate_limits_enabled": False}


@pytest.fixture
def token(session) -> str:
    company = make_company(session, SLUG)
    issued = create_token(session, Actor.system("t"), company, name="fuzz", scopes=list(SCOPES))
    session.commit()
    return issued.plaintext


@pytest.fixture(autouse=True)
def _served_by(app, monkeypatch):
    monkeypatch.setattr(SERVED, "app", app)


# /version has a server of its own (/api, not /api/v1), which the in-process transport
# does not follow; tests/sboms call it.
@schema.exclude(path="/version").parametrize()
@settings(
    max_examples=10,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_the_api_answers_as_documented(case, token):
    if "slug" in (case.path_parameters or {}):
        # Mostly the token's own company, so the answers behind authentication are tried too.
        case.path_parameters["slug"] = SLUG
    # An SBOM is any bytes to the schema; whether they are one is the parser's to say.
    excluded = [check for check, where in EXCLUDED.items() if case.operation.path in where]
    # In process, through the WSGI app: nothing leaves the test.
    case.call_and_validate(
        headers={"Authorization": f"Bearer {token}", "X-Api-Key": token},
        excluded_checks=excluded,
    )
