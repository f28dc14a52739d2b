"""Risk over the JSON API: dependencies, exposure, a project's score; tenancy; OpenAPI."""

from __future__ import annotations

import pytest

from service.audit.services import Actor
from service.companies.services import create_token
from service.risk.services import recompute_company
from tests.factories import make_company
from tests.risk.data import FETCHED_ISO, NOW, acme_scenario


def bearer(session, company, scopes=("read",)):
    issued = create_token(session, Actor.system("test"), company, name="t", scopes=list(scopes))
    session.commit()
    return {"Authorization": f"Bearer {issued.plaintext}"}


@pytest.fixture
def acme(session):
    company = make_company(session, "acme")
    projects = acme_scenario(session, company)
    recompute_company(session, company, now=NOW)
    session.commit()
    return company, projects, bearer(session, company)


def test_dependencies_with_filters_sort_and_paging(client, acme):
    _, projects, headers = acme
    everything = client.get("/api/v1/companies/acme/dependencies", headers=headers).json
    assert (everything["total"], everything["matching"], everything["pages"]) == (4, 4, 1)
    first = everything["items"][0]
    assert first == {
        "package": "pkg:npm/left-pad",
        "name": "left-pad",
        "ecosystem": "npm",
        "products": 3,
        "product_names": ["api", "cli", "web"],
        "depth": 1,
        "resolved": True,
        "status": "resolved",
        "project_id": projects["left"].id,
        "project": "github.com/left/pad",
        "risk": 80.7,
        "coverage": 0.8636,
        "funded": False,
    }
    page = client.get(
        "/api/v1/companies/acme/dependencies?ecosystem=pypi&sort=package&order=asc&per_page=1&page=2",
        headers=headers,
    ).json
    assert (page["matching"], page["pages"], page["page"]) == (2, 2, 2)
    assert [i["package"] for i in page["items"]] == ["pkg:pypi/tiny"]
    assert page["filters"] == {"ecosystem": "pypi"}
    unfunded = client.get(
        "/api/v1/companies/acme/dependencies?funding=unfunded&depth=2", headers=headers
    ).json
    assert [i["package"] for i in unfunded["items"]] == ["pkg:pypi/tiny"]


def test_bad_parameters_answer_400_naming_them(client, acme):
    _, _, headers = acme
    response = client.get("/api/v1/companies/acme/dependencies?per_page=0", headers=headers)
    assert response.status_code == 400
    error = response.json["error"]
    assert error["code"] == "invalid_parameter"
    assert error["details"]["field"] == "per_page"
    assert error["message"].startswith("per_page: expected 1 to 500")


def test_exposure(client, acme):
    _, _, headers = acme
    body = client.get("/api/v1/companies/acme/risk", headers=headers).json
    assert body["exposure"] == pytest.approx(286.5)
    assert body["unfunded_exposure"] == pytest.approx(251.5)
    assert body["coverage"]["share"] == 0.0
    assert body["coverage"]["reason"] == "no pledges recorded yet"
    assert body["definition"]["decay"] == 0.5 and body["definition"]["unknown_depth"] == 2
    assert [h["date"] for h in body["history"]] == [NOW.date().isoformat()]
    assert [t["project"] for t in body["top_unfunded"]] == [
        "github.com/left/pad",
        "github.com/tiny/tiny",
    ]


def test_project_score_breakdown_and_explanation(client, acme):
    _, projects, headers = acme
    body = client.get(
        f"/api/v1/companies/acme/risk/projects/{projects['left'].id}", headers=headers
    ).json
    assert (body["score"], body["coverage"], body["criticality"]) == (80.7, 0.8636, None)
    assert body["dependence"] == 3.0 and body["in_inventory"] is True
    publishers = next(line for line in body["breakdown"] if line["signal"] == "publishers")
    assert publishers == {
        "signal": "publishers",
        "raw": 1,
        "normalized": 1.0,
        "weight": 15.0,
        "contribution": publishers["contribution"],
        "source": "npm",
        "fetched_at": FETCHED_ISO,
    }
    assert "used directly by 3 of 4 products (source: SBOMs)" in body["explanation"]
    assert "one person can publish (source: npm)" in body["explanation"]
    assert sorted(body["missing"]) == ["criticality", "downloads"]
    missing = client.get("/api/v1/companies/acme/risk/projects/999999", headers=headers)
    assert missing.status_code == 404 and missing.json["error"]["code"] == "not_found"


def test_a_token_sees_only_its_own_company(client, session, acme):
    company, projects, _ = acme
    other = make_company(session, "other")
    other_headers = bearer(session, other)
    for url in (
        "/api/v1/companies/acme/dependencies",
        "/api/v1/companies/acme/risk",
        f"/api/v1/companies/acme/risk/projects/{projects['left'].id}",
    ):
        response = client.get(url, headers=other_headers)
        assert response.status_code == 404, url
        assert response.json["error"]["code"] == "not_found"
    # Through its own slug, another company's project has no score either.
    own = client.get(
        f"/api/v1/companies/other/risk/projects/{projects['left'].id}", headers=other_headers
    )
    assert own.status_code == 404
    write_only = bearer(session, company, ["sbom:write"])
    assert client.get("/api/v1/companies/acme/risk", headers=write_only).status_code == 403
    assert client.get("/api/v1/companies/acme/risk").status_code == 401


def test_openapi_lists_the_risk_paths(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    for path in (
        "/companies/{slug}/dependencies",
        "/companies/{slug}/risk",
        "/companies/{slug}/risk/projects/{project_id}",
    ):
        assert paths[path]["get"]["security"] == [{"bearer": ["read"]}]
    names = {p["name"] for p in paths["/companies/{slug}/dependencies"]["get"]["parameters"]}
    assert {"risk_min", "depth", "products", "ecosystem", "status", "funding", "sort"} <= names
