"""Bad bytes and big numbers are 4xx, never 500 (issue #11, item 7): NUL characters and
lone surrogates in SBOM text on every upload channel, NUL in query parameters, path
parts and upload metadata, huge page numbers, budgets and minimums past 32 bits, deeply
nested API envelopes, and error pages after a database error."""

from __future__ import annotations

import base64
import io

import pytest
from sqlalchemy import func, text
from sqlmodel import select

from service.audit.services import Actor
from service.companies.models import Role
from service.companies.services import create_token
from service.db import db_session
from service.sboms.models import Sbom
from tests.conftest import login, post_form
from tests.factories import make_company, make_user
from tests.sboms.documents import cyclonedx

GOOD = cyclonedx(("pkg:npm/left-pad", "1.3.0"))
CDX = '{{"bomFormat":"CycloneDX","specVersion":"1.5","components":[{{"type":"library",{}}}]}}'
BAD_DOCUMENTS = {
    "json-nul": (CDX.format('"name":"left\\u0000pad"').encode(), "NUL character (\\u0000)"),
    "json-surrogate": (CDX.format('"name":"x","version":"1\\ud800"').encode(), "lone surrogate"),
    "tag-value-nul": (b"SPDXVersion: SPDX-2.3\nPackageName: left\x00pad\n", "NUL character"),
}


@pytest.fixture
def acme(session):
    owner = make_user(session, "owner-o")
    company = make_company(session, "acme", members=[(owner, Role.owner)])
    issued = create_token(
        session, Actor.system("t"), company, name="ci", scopes=["sbom:write", "read"]
    )
    session.commit()
    return company, owner, issued.plaintext


def stored(session) -> int:
    return session.exec(select(func.count()).select_from(Sbom)).one()


@pytest.mark.parametrize("name", sorted(BAD_DOCUMENTS))
def test_bad_characters_in_sbom_text_are_refused_on_every_channel(client, app, session, acme, name):
    _company, owner, key = acme
    data, what = BAD_DOCUMENTS[name]
    api = client.post(
        "/api/v1/companies/acme/products/web/sboms",
        data=data,
        headers={"Authorization": f"Bearer {key}"},
    )
    put = client.put(
        "/api/v1/bom",
        json={"projectName": "web", "autoCreate": True, "bom": base64.b64encode(data).decode()},
        headers={"X-Api-Key": key},
    )
    multipart = client.post(
        "/api/v1/bom",
        data={"projectName": "web", "autoCreate": "true", "bom": (io.BytesIO(data), "b.json")},
        headers={"X-Api-Key": key},
        content_type="multipart/form-data",
    )
    for response in (api, put, multipart):
        assert response.status_code == 400, response.json
        assert response.json["error"]["code"] == "invalid_character"
        assert what in response.json["error"]["message"]
        assert "line " in response.json["error"]["message"]
    login(client, owner)
    web = post_form(
        client,
        app,
        "/c/acme/products/upload",
        {"files": [(io.BytesIO(data), "bad.json")], "product": "web", "version": ""},
        content_type="multipart/form-data",
    )
    assert web.status_code == 400 and what in web.get_data(as_text=True)
    assert stored(session) == 0


def test_nul_in_query_path_and_upload_metadata_is_400(client, app, session, acme):
    _company, owner, key = acme
    bearer = {"Authorization": f"Bearer {key}"}
    answers = {
        "q": client.get("/api/v1/companies/acme/dependencies?q=a%00b", headers=bearer),
        "ecosystem": client.get(
            "/api/v1/companies/acme/dependencies?ecosystem=%00", headers=bearer
        ),
        "path": client.post(
            "/api/v1/companies/acme/products/we%00b/sboms", data=GOOD, headers=bearer
        ),
        "version": client.post(
            "/api/v1/companies/acme/products/web/sboms?version=1%00", data=GOOD, headers=bearer
        ),
        "projectVersion": client.put(
            "/api/v1/bom",
            json={
                "projectName": "web",
                "projectVersion": "1\u0000",
                "autoCreate": True,
                "bom": base64.b64encode(GOOD).decode(),
            },
            headers={"X-Api-Key": key},
        ),
        "filename": client.post(
            "/api/v1/bom",
            data={
                "projectName": "web",
                "autoCreate": "true",
                "bom": (io.BytesIO(GOOD), "a\x00.json"),
            },
            headers={"X-Api-Key": key},
            content_type="multipart/form-data",
        ),
    }
    assert {name: r.status_code for name, r in answers.items()} == dict.fromkeys(answers, 400)
    assert "NUL character" in answers["q"].json["error"]["message"]
    login(client, owner)
    page = client.get("/c/acme/dependencies?q=%00")
    assert page.status_code == 400 and "NUL character" in page.get_data(as_text=True)
    assert stored(session) == 0


def test_huge_page_numbers_are_clamped(client, session, acme):
    _company, owner, key = acme
    client.post(
        "/api/v1/companies/acme/products/web/sboms",
        data=GOOD,
        headers={"Authorization": f"Bearer {key}"},
    )
    product_id = session.exec(select(Sbom.product_id)).one()
    login(client, owner)
    huge = "99999999999999999999"
    for url in (f"/c/acme/projects?page={huge}", f"/c/acme/products/{product_id}?page={huge}"):
        assert client.get(url).status_code == 200, url


def test_money_is_64_bit_and_range_checked_with_the_limit_named(client, app, session, acme):
    company, owner, _key = acme
    login(client, owner)
    big = post_form(client, app, "/c/acme/settings", {"name": "Acme", "budget": "21474837.00"})
    assert big.status_code == 302
    session.refresh(company)
    assert company.monthly_budget_minor == 2_147_483_700
    too_big = post_form(
        client, app, "/c/acme/settings", {"name": "Acme", "budget": "10000000000000.01"}
    )
    assert "largest amount Tributary takes, 10000000000000.00 USD" in too_big.get_data(as_text=True)
    session.refresh(company)
    assert company.monthly_budget_minor == 2_147_483_700


def test_a_deeply_nested_envelope_gets_the_readers_nesting_limit(client, acme):
    _company, _owner, key = acme
    body = b"[" * 100_000 + b"]" * 100_000
    response = client.put(
        "/api/v1/bom", data=body, headers={"X-Api-Key": key}, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json["error"]["code"] == "too_deep"
    assert "the limit is 64 levels" in response.json["error"]["message"]


def test_error_pages_roll_back_and_carry_the_security_headers(app, client, acme):
    _company, owner, _key = acme
    app.config["PROPAGATE_EXCEPTIONS"] = False  # answer as in production, not raise

    @app.get("/test-database-error")
    def database_error():
        db_session().exec(text("SELECT * FROM no_such_table"))

    login(client, owner)
    failed = client.get("/test-database-error")
    missing = client.get("/no-such-page")
    for response in (failed, missing):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert failed.status_code == 500
    assert "Something went wrong on our side" in failed.get_data(as_text=True)
    assert missing.status_code == 404


def test_an_id_no_row_can_have_is_not_found_before_the_database_is_asked(client):
    answer = client.get("/api/v1/companies/acme/pledges/9223372036854775808")
    assert answer.status_code == 404
    assert client.get("/c/acme/pledges/99999999999999999999").status_code == 404
