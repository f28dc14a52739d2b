"""Dependency-Track compatible endpoints, called the way DT clients and CI plugins call them."""

from __future__ import annotations

import base64
import io

import pytest
from sqlalchemy import func
from sqlmodel import select

from service.audit.services import Actor
from service.companies.services import create_token
from service.sboms.models import BomToken, Product, Sbom
from service.sboms.services import ingest
from tests.factories import make_company
from tests.sboms.documents import corpus_file, cyclonedx

BOM = cyclonedx(("pkg:maven/org.example/core", "1.0"), ("pkg:npm/left-pad", "1.3.0"))
BOM2 = cyclonedx(("pkg:maven/org.example/core", "1.1"))


@pytest.fixture
def key(session):
    company = make_company(session, "acme")
    issued = create_token(session, Actor.system("t"), company, name="dt", scopes=["sbom:write"])
    session.commit()
    return company, issued.plaintext


def put(client, key, body, header="X-Api-Key"):
    return client.put("/api/v1/bom", json=body, headers={header: key})


def count(session, model) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


def test_put_json_with_project_name_and_auto_create(client, session, key):
    company, plaintext = key
    body = {
        "projectName": "storefront",
        "projectVersion": "1.4.2",
        "autoCreate": True,
        "bom": base64.b64encode(BOM).decode(),
    }
    response = put(client, plaintext, body)
    assert response.status_code == 200, response.json
    assert set(response.json) == {"token"} and len(response.json["token"]) == 36
    product = session.exec(select(Product).where(Product.company_id == company.id)).one()
    sbom = session.exec(select(Sbom).where(Sbom.product_id == product.id)).one()
    assert (product.name, sbom.project_version, sbom.source) == (
        "storefront",
        "1.4.2",
        "dependency-track",
    )
    assert sbom.uploaded_by_token_id is not None
    stored = session.exec(select(BomToken).where(BomToken.uuid == response.json["token"])).one()
    assert stored.sbom_id == sbom.id and stored.company_id == company.id

    # The same BOM again: same token, nothing duplicated.
    again = put(client, plaintext, body)
    assert again.json == response.json
    assert (count(session, Sbom), count(session, BomToken)) == (1, 1)

    for path in ("/api/v1/bom/token/", "/api/v1/event/token/"):
        polled = client.get(path + response.json["token"], headers={"X-Api-Key": plaintext})
        assert polled.status_code == 200 and polled.json == {"processing": False}


def test_put_with_the_project_uuid(client, session, key):
    company, plaintext = key
    existing = ingest(session, Actor.system("t"), company, "billing", BOM, source="cli").product
    session.commit()
    response = put(
        client, plaintext, {"project": existing.uuid, "bom": base64.b64encode(BOM2).decode()}
    )
    assert response.status_code == 200
    latest = session.exec(select(Sbom).order_by(Sbom.id.desc())).first()
    assert latest.product_id == existing.id and latest.diff["changed_count"] == 1


def test_post_multipart_with_bom_as_file_and_as_text(client, session, key):
    _company, plaintext = key
    as_file = client.post(
        "/api/v1/bom",
        data={
            "projectName": "mobile",
            "projectVersion": "3.0",
            "autoCreate": "true",
            "bom": (io.BytesIO(BOM), "bom.json"),
        },
        headers={"X-Api-Key": plaintext},
        content_type="multipart/form-data",
    )
    assert as_file.status_code == 200 and "token" in as_file.json
    as_text = client.post(
        "/api/v1/bom",
        data={"projectName": "mobile", "autoCreate": "TRUE", "bom": BOM2.decode()},
        headers={"X-Api-Key": plaintext},
        content_type="multipart/form-data",
    )
    assert as_text.status_code == 200
    sboms = session.exec(select(Sbom).order_by(Sbom.id)).all()
    assert [(s.filename, s.project_version) for s in sboms] == [("bom.json", "3.0"), (None, None)]
    assert sboms[1].diff["removed_count"] == 1


def test_missing_project_without_auto_create_is_404(client, session, key):
    _company, plaintext = key
    encoded = base64.b64encode(BOM).decode()
    for body in (
        {"projectName": "ghost", "projectVersion": "1", "bom": encoded},
        {"projectName": "ghost", "autoCreate": False, "bom": encoded},
        {"projectName": "ghost", "autoCreate": "false", "bom": encoded},
        {"project": "6f1d2b56-7f39-4ad8-8f0e-51f8a9f0c2aa", "bom": encoded},
    ):
        response = put(client, plaintext, body)
        assert response.status_code == 404, body
    multipart = client.post(
        "/api/v1/bom",
        data={"projectName": "ghost", "bom": (io.BytesIO(BOM), "bom.json")},
        headers={"X-Api-Key": plaintext},
        content_type="multipart/form-data",
    )
    assert multipart.status_code == 404
    assert count(session, Product) == 0


def test_keys_bad_missing_and_in_any_header_case(client, session, key):
    _company, plaintext = key
    body = {"projectName": "x", "autoCreate": True, "bom": base64.b64encode(BOM).decode()}
    assert put(client, "trb_not-a-real-key", body).status_code == 401
    assert client.put("/api/v1/bom", json=body).status_code == 401
    assert client.get("/api/v1/bom/token/6f1d2b56-7f39-4ad8-8f0e-51f8a9f0c2aa").status_code == 401
    assert count(session, Sbom) == 0
    odd_case = put(client, plaintext, body, header="x-API-key")
    assert odd_case.status_code == 200


def test_another_companys_project_uuid_is_not_found(client, session, key):
    _company, plaintext = key
    other = make_company(session, "other")
    theirs = ingest(session, Actor.system("t"), other, "secret", BOM, source="cli").product
    session.commit()
    response = put(
        client, plaintext, {"project": theirs.uuid, "bom": base64.b64encode(BOM2).decode()}
    )
    assert response.status_code == 404
    assert count(session, Sbom) == 1


def test_invalid_bom_answers_400_problem_details(client, session, key):
    _company, plaintext = key
    bad = corpus_file("malformed/cdx-guac-xml-declaration-only.xml")
    response = put(
        client,
        plaintext,
        {"projectName": "broken", "autoCreate": True, "bom": base64.b64encode(bad).decode()},
    )
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    problem = response.get_json(force=True)
    assert problem["title"] == "The uploaded BOM is invalid" and problem["status"] == 400
    assert problem["error"]["code"] == "invalid_xml" and "line 1" in problem["detail"]
    assert count(session, Product) == 0 and count(session, Sbom) == 0

    not_base64 = put(client, plaintext, {"projectName": "x", "autoCreate": True, "bom": "@@@"})
    assert not_base64.status_code == 400
    assert not_base64.json["error"]["code"] == "invalid_base64"
    no_bom = put(client, plaintext, {"projectName": "x", "autoCreate": True})
    assert no_bom.status_code == 400
    bad_token = client.get("/api/v1/event/token/not-a-uuid", headers={"X-Api-Key": plaintext})
    assert bad_token.status_code == 400


class TestSizeLimit:
    @pytest.fixture
    def app_overrides(self):
        return {"max_upload_bytes": 2048}

    def test_over_size_upload_answers_413(self, client, session, key):
        _company, plaintext = key
        big = cyclonedx(*[(f"pkg:npm/lib-{i:03d}", "1.0.0") for i in range(100)])
        body = {"projectName": "big", "autoCreate": True, "bom": base64.b64encode(big).decode()}
        response = put(client, plaintext, body)
        assert response.status_code == 413 and response.json["error"]["code"] == "too_large"
        multipart = client.post(
            "/api/v1/bom",
            data={"projectName": "big", "autoCreate": "true", "bom": (io.BytesIO(big), "b.json")},
            headers={"X-Api-Key": plaintext},
            content_type="multipart/form-data",
        )
        assert multipart.status_code == 413
        assert count(session, Sbom) == 0
