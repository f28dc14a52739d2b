"""The JSON API: upload (raw and multipart), idempotency, errors, listing, tenancy, limits."""

from __future__ import annotations

import gzip
import io

import pytest
from sqlalchemy import func
from sqlmodel import select

from service.audit.services import Actor
from service.companies.services import create_token
from service.sboms.models import Product, Sbom, SbomComponent
from tests.factories import make_company
from tests.sboms.documents import corpus_file, cyclonedx

V1 = cyclonedx(("pkg:pypi/requests", "2.31.0"), ("pkg:pypi/urllib3", "2.0.0"))
V2 = cyclonedx(("pkg:pypi/requests", "2.32.0"), ("pkg:pypi/click", "8.1.0"))


def token(session, company, *scopes):
    issued = create_token(session, Actor.system("test"), company, name="ci", scopes=list(scopes))
    session.commit()
    return {"Authorization": f"Bearer {issued.plaintext}"}


@pytest.fixture
def acme(session):
    company = make_company(session, "acme")
    return company, token(session, company, "sbom:write", "read")


def count(session, model) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


def test_raw_upload_answers_201_with_summary_and_diff(client, session, acme):
    _company, headers = acme
    url = "/api/v1/companies/acme/products/web-shop/sboms"
    first = client.post(url, data=V1, headers=headers, content_type="application/json")
    assert first.status_code == 201, first.json
    body = first.json
    assert body["created"] is True and body["source"] == "api"
    assert body["product"]["name"] == "web-shop" and len(body["product"]["uuid"]) == 36
    assert body["summary"]["components"] == 2 and body["summary"]["format"] == "cyclonedx"
    assert set(body["summary"]) >= {"spec_version", "encoding", "with_purl", "packages", "direct"}
    assert body["diff"]["first"] is True

    second = client.post(
        url + "?version=2.0&filename=bom.json", data=gzip.compress(V2), headers=headers
    )
    assert second.status_code == 201
    assert second.json["project_version"] == "2.0" and second.json["filename"] == "bom.json"
    diff = second.json["diff"]
    assert (diff["added_count"], diff["removed_count"], diff["changed_count"]) == (1, 1, 1)


def test_curl_data_binary_body_is_read_raw(client, session, acme):
    """curl --data-binary labels the body as a form; it is still the SBOM itself."""
    _company, headers = acme
    response = client.post(
        "/api/v1/companies/acme/products/web-shop/sboms",
        data=V1,
        headers=headers,
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 201 and response.json["summary"]["components"] == 2


def test_multipart_upload_and_idempotent_repeat(client, session, acme):
    _company, headers = acme
    url = "/api/v1/companies/acme/products/svc%2Fapi/sboms"

    def post():
        return client.post(
            url,
            data={"file": (io.BytesIO(V1), "bom.cdx.json"), "version": "7"},
            headers=headers,
            content_type="multipart/form-data",
        )

    first = post()
    assert first.status_code == 201
    assert first.json["product"]["name"] == "svc/api" and first.json["filename"] == "bom.cdx.json"
    rows = (count(session, Sbom), count(session, SbomComponent))
    again = post()
    assert again.status_code == 200
    assert {**again.json, "created": True} == first.json
    assert (count(session, Sbom), count(session, SbomComponent)) == rows


def test_unreadable_sbom_answers_400_with_the_parsers_error(client, session, acme):
    _company, headers = acme
    url = "/api/v1/companies/acme/products/web-shop/sboms"
    response = client.post(
        url, data=corpus_file("malformed/cdx-dt-truncated.json"), headers=headers
    )
    assert response.status_code == 400
    error = response.json["error"]
    assert error["code"] == "invalid_json"
    assert error["message"].startswith("The JSON document ends early, at line 2, column 28")
    assert error["details"]["line"] == 2
    assert count(session, Product) == 0 and count(session, Sbom) == 0

    empty = client.post(url, data=b"", headers=headers)
    assert empty.status_code == 400 and empty.json["error"]["code"] == "empty"
    no_file = client.post(
        url, data={"note": "x"}, headers=headers, content_type="multipart/form-data"
    )
    assert no_file.status_code == 400 and no_file.json["error"]["code"] == "missing_file"


def test_auth_scope_and_other_companies(client, session, acme):
    company, headers = acme
    other = make_company(session, "other")
    other_headers = token(session, other, "sbom:write", "read")
    read_only = token(session, company, "read")
    url = "/api/v1/companies/acme/products/web-shop/sboms"

    assert client.post(url, data=V1).status_code == 401
    bad = client.post(url, data=V1, headers={"Authorization": "Bearer trb_nope"})
    assert bad.status_code == 401 and bad.json["error"]["code"] == "unauthorized"
    scope = client.post(url, data=V1, headers=read_only)
    assert scope.status_code == 403 and scope.json["error"]["code"] == "insufficient_scope"
    foreign = client.post(url, data=V1, headers=other_headers)
    assert foreign.status_code == 404 and foreign.json["error"]["code"] == "not_found"
    assert count(session, Sbom) == 0

    assert client.post(url, data=V1, headers=headers).status_code == 201
    # B cannot list A's products or their SBOMs, by A's slug or through its own.
    assert client.get("/api/v1/companies/acme/products", headers=other_headers).status_code == 404
    assert (
        client.get("/api/v1/companies/other/products/web-shop/sboms", headers=other_headers)
    ).status_code == 404
    assert client.get("/api/v1/companies/other/products", headers=other_headers).json == {
        "products": []
    }


def test_listing_products_and_sboms(client, session, acme):
    _company, headers = acme
    url = "/api/v1/companies/acme/products/web-shop/sboms"
    client.post(url, data=V1, headers=headers)
    client.post(url, data=V2, headers=headers)
    client.post("/api/v1/companies/acme/products/another/sboms", data=V1, headers=headers)
    write_only = token(session, acme[0], "sbom:write")
    assert client.get("/api/v1/companies/acme/products", headers=write_only).status_code == 403

    products = client.get("/api/v1/companies/acme/products", headers=headers).json["products"]
    assert [p["name"] for p in products] == ["another", "web-shop"]
    assert products[1]["sboms"] == 2 and products[1]["latest_sbom"]["diff"]["added_count"] == 1
    history = client.get(url, headers=headers).json
    assert history["product"]["name"] == "web-shop"
    assert [s["diff"]["first"] for s in history["sboms"]] == [False, True]
    assert (
        client.get(url + "?limit=1", headers=headers).json["sboms"][0]["id"]
        == (history["sboms"][0]["id"])
    )
    missing = client.get("/api/v1/companies/acme/products/nope/sboms", headers=headers)
    assert missing.status_code == 404 and missing.json["error"]["code"] == "not_found"


@pytest.mark.parametrize("limit", ["0", "1001", "ten"])
def test_a_bad_history_limit_is_named(client, acme, limit):
    _company, headers = acme
    client.post("/api/v1/companies/acme/products/web-shop/sboms", data=V1, headers=headers)
    answer = client.get(
        f"/api/v1/companies/acme/products/web-shop/sboms?limit={limit}", headers=headers
    )
    assert answer.status_code == 400
    assert answer.json["error"] == {
        "code": "invalid_parameter",
        "message": f"limit: expected a whole number from 1 to 1000, got {limit!r}",
        "details": {
            "field": "limit",
            "errors": {"limit": f"limit: expected a whole number from 1 to 1000, got {limit!r}"},
        },
    }


def test_openapi_lists_the_sbom_paths(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    assert {"post", "get"} <= set(paths["/companies/{slug}/products/{product}/sboms"])
    assert "get" in paths["/companies/{slug}/products"]
    assert {"put", "post"} <= set(paths["/bom"])
    assert "/bom/token/{uuid}" in paths and "/event/token/{uuid}" in paths
    assert {"get", "patch"} <= set(paths["/project/{uuid}"])
    for path in ("/version", "/project", "/project/lookup", "/metrics/project/{uuid}/current"):
        assert "get" in paths[path], path
    assert "/finding/project/{uuid}" in paths and "/violation/project/{uuid}" in paths


class TestSizeLimit:
    @pytest.fixture
    def app_overrides(self):
        return {"max_upload_bytes": 2048}

    def test_over_size_body_answers_json_413(self, client, session, acme):
        _company, headers = acme
        big = cyclonedx(*[(f"pkg:npm/lib-{i:03d}", "1.0.0") for i in range(100)])
        url = "/api/v1/companies/acme/products/web-shop/sboms"
        response = client.post(url, data=big, headers=headers)
        assert response.status_code == 413
        assert response.json["error"]["code"] == "too_large"
        assert "2 KB" in response.json["error"]["message"]
        # A gzip body under the limit that inflates past it is refused by the parser.
        bomb = gzip.compress(big + b" " * 50_000)
        assert len(bomb) < 2048
        inflated = client.post(url, data=bomb, headers=headers)
        assert inflated.status_code == 413 and inflated.json["error"]["code"] == "too_large"
        assert count(session, Sbom) == 0
