"""API tokens: hashed at rest, scoped, revocable, bound to one company."""

import hashlib

from sqlmodel import select

from service.audit.services import Actor
from service.companies.models import ApiToken, Role
from service.companies.services import create_token, revoke_token
from tests.factories import make_company, make_user


def issue(session, company, scopes):
    issued = create_token(session, Actor.system("test"), company, name="t", scopes=scopes)
    session.commit()
    return issued


def test_token_is_stored_as_its_sha256_only(session):
    company = make_company(session)
    issued = issue(session, company, ["read"])
    row = session.exec(select(ApiToken)).one()
    assert row.token_hash == hashlib.sha256(issued.plaintext.encode()).hexdigest()
    assert issued.plaintext not in (row.prefix + row.token_hash)


def test_read_scope_reads_its_company_and_records_last_use(client, session):
    company = make_company(session, "acme", name="Acme")
    issued = issue(session, company, ["read"])
    response = client.get(
        "/api/v1/companies/acme", headers={"Authorization": f"Bearer {issued.plaintext}"}
    )
    assert response.status_code == 200
    assert response.json == {
        "slug": "acme",
        "name": "Acme",
        "currency": "USD",
        "monthly_budget": "1000.00",
    }
    session.refresh(issued.token)
    assert issued.token.last_used_at is not None


def test_missing_wrong_scope_revoked_and_foreign_tokens(client, session):
    acme = make_company(session, "acme")
    other = make_company(session, "other")
    write_only = issue(session, acme, ["sbom:write"])
    other_token = issue(session, other, ["read"])
    revoked = issue(session, acme, ["read"])
    revoke_token(session, Actor.system("test"), acme, revoked.token.id)
    session.commit()

    def get(token):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return client.get("/api/v1/companies/acme", headers=headers)

    missing = get(None)
    assert missing.status_code == 401 and missing.json["error"]["code"] == "unauthorized"
    scope = get(write_only.plaintext)
    assert scope.status_code == 403
    assert scope.json["error"] == {
        "code": "insufficient_scope",
        "message": "This token lacks the 'read' scope.",
        "details": {"required_scope": "read"},
    }
    assert get(revoked.plaintext).status_code == 401
    assert get("trb_made-up").status_code == 401
    foreign = get(other_token.plaintext)
    assert foreign.status_code == 404 and foreign.json["error"]["code"] == "not_found"


def test_api_errors_are_json(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert set(response.json["error"]) == {"code", "message", "details"}


def test_openapi_document(client):
    document = client.get("/api/v1/openapi.json").json
    assert document["openapi"].startswith("3.")
    assert "/companies/{slug}" in document["paths"]


def test_session_cookie_does_not_authenticate_the_api(client, session):
    from tests.conftest import login

    user = make_user(session)
    make_company(session, "acme", members=[(user, Role.owner)])
    login(client, user)
    assert client.get("/api/v1/companies/acme").status_code == 401
