"""Dependency-Track's project endpoints, called in the order a CI client calls them:
look the project up, upload, poll, read it back, deactivate the older version.

Shapes are checked against Dependency-Track's models: Project (uuid, name, version,
active, isLatest, tags [{name}], parent {uuid, name, version}, lastBomImport in epoch
milliseconds, versions [{uuid, version, active, isLatest}]), ProjectMetrics, and the
X-Total-Count paging header.
"""

from __future__ import annotations

import base64
import io
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from service.audit.services import Actor
from service.companies.models import Role
from service.companies.services import create_token
from service.sboms.models import Product, ProductVersion
from service.sboms.services import ingest
from tests.conftest import login
from tests.factories import make_company, make_user
from tests.sboms.documents import cyclonedx

NOW = datetime(2031, 5, 4, 12, 0, tzinfo=UTC)
BOM = cyclonedx(("pkg:npm/left-pad", "1.3.0"), ("pkg:npm/lodash", "4.17.21"))
BOM2 = cyclonedx(("pkg:npm/lodash", "4.17.21"))
PROJECT_FIELDS = {"uuid", "name", "active", "isLatest", "tags"}
OPTIONAL_FIELDS = {"version", "lastBomImport", "lastBomImportFormat", "parent", "versions"}


@pytest.fixture
def keys(session):
    owner = make_user(session, "owner")
    company = make_company(session, "acme", members=[(owner, Role.owner)])
    actor = Actor.system("t")
    write = create_token(session, actor, company, name="ci", scopes=["sbom:write"])
    read = create_token(session, actor, company, name="dash", scopes=["read"])
    session.commit()
    return company, owner, {"X-Api-Key": write.plaintext}, {"X-Api-Key": read.plaintext}


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def check_project(body: dict) -> None:
    """The answer has Dependency-Track's Project field names and types."""
    assert PROJECT_FIELDS <= set(body) <= PROJECT_FIELDS | OPTIONAL_FIELDS, body
    assert str(uuid.UUID(body["uuid"])) == body["uuid"]
    assert isinstance(body["name"], str) and isinstance(body["active"], bool)
    assert isinstance(body["isLatest"], bool)
    assert all(set(tag) == {"name"} for tag in body["tags"])
    if "lastBomImport" in body:
        assert type(body["lastBomImport"]) is int
    if "parent" in body:
        assert {"uuid", "name"} <= set(body["parent"]) <= {"uuid", "name", "version"}
    for version in body.get("versions", []):
        assert (
            {"uuid", "active", "isLatest"}
            <= set(version)
            <= {
                "uuid",
                "version",
                "active",
                "isLatest",
            }
        )


def test_a_ci_client_looks_up_uploads_polls_reads_back_and_deactivates(
    client, session, clock, keys
):
    _company, owner, write, read = keys
    version = client.get("/api/version")  # no key, as in Dependency-Track
    assert version.status_code == 200
    assert version.json["application"] == "Tributary"
    assert [int(part) for part in version.json["version"].split(".")] >= [4, 12]

    # The parent the pipeline files its service under.
    parent = client.put(
        "/api/v1/bom",
        json={
            "projectName": "platform",
            "projectVersion": "2031",
            "autoCreate": True,
            "bom": b64(BOM2),
        },
        headers=write,
    )
    assert parent.status_code == 200

    # 1. Lookup before the first upload: 404, a problem document.
    missing = client.get("/api/v1/project/lookup?name=storefront&version=1.0", headers=read)
    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"
    assert missing.json["status"] == 404 and missing.json["error"]["code"] == "project_not_found"

    # 2. Upload as DependencyTrack/gh-upload-sbom sends it (multipart).
    upload = client.post(
        "/api/v1/bom",
        data={
            "projectName": "storefront",
            "projectVersion": "1.0",
            "autoCreate": "true",
            "projectTags": "Team-A, web",
            "isLatest": "true",
            "parentName": "platform",
            "parentVersion": "2031",
            "bom": (io.BytesIO(BOM), "bom.json"),
        },
        headers=write,
        content_type="multipart/form-data",
    )
    assert upload.status_code == 200, upload.json
    token = upload.json["token"]

    # 3. Poll until processed.
    polled = client.get(f"/api/v1/event/token/{token}", headers=write)
    assert polled.status_code == 200 and polled.json == {"processing": False}

    # 4. Read back.
    found = client.get("/api/v1/project/lookup?name=storefront&version=1.0", headers=read)
    assert found.status_code == 200
    project = found.json
    check_project(project)
    assert (project["name"], project["version"], project["active"]) == ("storefront", "1.0", True)
    assert project["isLatest"] is True
    assert project["tags"] == [{"name": "team-a"}, {"name": "web"}]
    assert project["lastBomImport"] == int(NOW.timestamp() * 1000)
    assert project["lastBomImportFormat"] == "CycloneDX 1.5"
    platform = client.get("/api/v1/project/lookup?name=platform&version=2031", headers=read).json
    assert project["parent"] == {"uuid": platform["uuid"], "name": "platform", "version": "2031"}
    product = session.exec(select(Product).where(Product.name == "storefront")).one()
    assert project["uuid"] == product.uuid  # the first version keeps the product's UUID
    same = client.get(f"/api/v1/project/{project['uuid']}", headers=read)
    assert same.json == project

    # The build gate's reads: honest empty results for a project that exists.
    metrics = client.get(f"/api/v1/metrics/project/{project['uuid']}/current", headers=read)
    assert metrics.status_code == 200
    assert metrics.json["components"] == 2
    assert metrics.json["critical"] == metrics.json["policyViolationsFail"] == 0
    assert type(metrics.json["inheritedRiskScore"]) is float
    assert metrics.json["lastOccurrence"] == int(NOW.timestamp() * 1000)
    for path in ("finding", "violation"):
        answer = client.get(f"/api/v1/{path}/project/{project['uuid']}", headers=read)
        assert (answer.status_code, answer.json, answer.headers["X-Total-Count"]) == (200, [], "0")

    # The next release: the same bytes under a new version record that version.
    clock.advance(timedelta(hours=1))
    again = client.put(
        "/api/v1/bom",
        json={
            "projectName": "storefront",
            "projectVersion": "1.1",
            "isLatest": True,
            "bom": b64(BOM),
        },
        headers=write,
    )
    assert again.status_code == 200 and again.json["token"] == token  # same stored SBOM
    newer = client.get("/api/v1/project/lookup?name=storefront&version=1.1", headers=read).json
    check_project(newer)
    assert newer["uuid"] != project["uuid"] and newer["isLatest"] is True
    assert newer["lastBomImport"] == int((NOW + timedelta(hours=1)).timestamp() * 1000)
    assert [(v["version"], v["isLatest"]) for v in newer["versions"]] == [
        ("1.0", False),
        ("1.1", True),
    ]

    # lastBomImport moves on a byte-identical re-upload (clients wait for it to change).
    clock.advance(timedelta(minutes=5))
    client.put(
        "/api/v1/bom",
        json={"project": newer["uuid"], "projectVersion": "ignored", "bom": b64(BOM)},
        headers=write,
    )
    polled_again = client.get(f"/api/v1/project/{newer['uuid']}", headers=read).json
    assert polled_again["lastBomImport"] - newer["lastBomImport"] == 5 * 60 * 1000
    assert polled_again["version"] == "1.1"

    # 5. Deactivate the older version, as clients do after an upload.
    deactivated = client.patch(
        f"/api/v1/project/{project['uuid']}", json={"active": False}, headers=write
    )
    assert deactivated.status_code == 200
    check_project(deactivated.json)
    assert deactivated.json["active"] is False and deactivated.json["version"] == "1.0"
    unchanged = client.patch(
        f"/api/v1/project/{project['uuid']}", json={"active": False}, headers=write
    )
    assert unchanged.status_code == 304

    listed = client.get("/api/v1/project?name=storefront", headers=read)
    assert listed.headers["X-Total-Count"] == "2"
    assert [(p["version"], p["active"]) for p in listed.json] == [("1.0", False), ("1.1", True)]
    active = client.get("/api/v1/project?name=storefront&excludeInactive=true", headers=read)
    assert [p["version"] for p in active.json] == ["1.1"]
    everything = client.get("/api/v1/project?pageSize=2&pageNumber=2", headers=read)
    assert everything.headers["X-Total-Count"] == "3"
    assert [(p["name"], p["version"]) for p in everything.json] == [("storefront", "1.1")]
    # The Jenkins plugin pages with limit and page until a page comes back empty.
    jenkins = [
        client.get(f"/api/v1/project?limit=2&excludeInactive=true&page={n}", headers=read).json
        for n in (1, 2)
    ]
    assert [[p["version"] for p in page] for page in jenkins] == [["2031", "1.1"], []]
    offset = client.get("/api/v1/project?offset=1&limit=1", headers=read).json
    assert [p["version"] for p in offset] == ["1.0"]
    searched = client.get("/api/v1/project?searchText=FRONT", headers=read).json
    assert {p["name"] for p in searched} == {"storefront"}
    roots = client.get("/api/v1/project?onlyRoot=true", headers=read)
    assert [p["name"] for p in roots.json] == ["platform"]

    # The product page shows what the client set.
    login(client, owner)
    page = client.get(f"/c/acme/products/{product.id}").get_data(as_text=True)
    assert "team-a" in page and 'id="product-parent"' in page and "platform" in page
    assert page.count("inactive") >= 1 and newer["uuid"] in page


def test_patch_keeps_what_tributary_keeps_and_refuses_the_rest(client, session, keys):
    company, _owner, write, read = keys
    actor = Actor.system("t")
    app = ingest(session, actor, company, "app", BOM, source="cli", project_version="2").version
    lib = ingest(session, actor, company, "lib", BOM2, source="cli").version
    session.commit()

    tagged = client.patch(
        f"/api/v1/project/{lib.uuid}",
        json={"tags": [{"name": "Shared"}], "parent": {"uuid": app.uuid}, "isLatest": True},
        headers=write,
    )
    assert tagged.status_code == 200
    assert tagged.json["tags"] == [{"name": "shared"}] and tagged.json["isLatest"] is True
    assert tagged.json["parent"] == {"uuid": app.uuid, "name": "app", "version": "2"}

    loop = client.patch(
        f"/api/v1/project/{app.uuid}", json={"parent": {"uuid": lib.uuid}}, headers=write
    )
    assert loop.status_code == 409 and loop.mimetype == "application/problem+json"
    rename = client.patch(f"/api/v1/project/{app.uuid}", json={"name": "other"}, headers=write)
    assert rename.status_code == 400 and "name" in rename.json["detail"]
    not_bool = client.patch(f"/api/v1/project/{app.uuid}", json={"active": "no"}, headers=write)
    assert not_bool.status_code == 400
    no_uuid = client.patch(f"/api/v1/project/{app.uuid}", json={"parent": {}}, headers=write)
    assert no_uuid.status_code == 400
    read_only = client.patch(f"/api/v1/project/{app.uuid}", json={"active": False}, headers=read)
    assert read_only.status_code == 403
    unknown = str(uuid.uuid4())
    for path in (
        f"/api/v1/project/{unknown}",
        f"/api/v1/metrics/project/{unknown}/current",
        f"/api/v1/finding/project/{unknown}",
        f"/api/v1/violation/project/{unknown}",
    ):
        assert client.get(path, headers=read).status_code == 404, path
    assert client.get("/api/v1/project/not-a-uuid", headers=read).status_code == 400
    assert client.get("/api/v1/project").status_code == 401
    session.expire_all()
    assert session.get(ProductVersion, app.id).active is True


def test_another_companys_projects_stay_out_of_sight(client, session, keys):
    _company, _owner, write, read = keys
    other = make_company(session, "other")
    theirs = ingest(session, Actor.system("t"), other, "secret", BOM, source="cli").version
    session.commit()
    assert client.get("/api/v1/project", headers=read).json == []
    assert client.get(f"/api/v1/project/{theirs.uuid}", headers=read).status_code == 404
    assert client.get("/api/v1/project/lookup?name=secret", headers=read).status_code == 404
    parent_elsewhere = client.put(
        "/api/v1/bom",
        json={
            "projectName": "mine",
            "autoCreate": True,
            "parentUUID": theirs.uuid,
            "bom": b64(BOM),
        },
        headers=write,
    )
    assert parent_elsewhere.status_code == 404
    assert parent_elsewhere.json["error"]["code"] == "parent_not_found"
    assert session.exec(select(Product).where(Product.name == "mine")).first() is None


def test_every_refusal_on_the_upload_endpoints_is_a_problem_document(client, keys):
    _company, _owner, write, _read = keys
    bad_base64 = client.put(
        "/api/v1/bom",
        json={"projectName": "x", "autoCreate": True, "bom": "@@@"},
        headers=write,
    )
    assert bad_base64.status_code == 400 and bad_base64.mimetype == "application/problem+json"
    assert bad_base64.json["error"]["code"] == "invalid_base64"
    assert bad_base64.json["detail"].startswith("bom is not valid base64")
    no_key = client.post("/api/v1/bom", data={"projectName": "x"})
    assert no_key.status_code == 401 and no_key.mimetype == "application/problem+json"


def test_team_self_says_what_the_key_may_do(client, session):
    company = make_company(session, "teamco", name="Team Co")
    writer = create_token(session, Actor.system("t"), company, name="ci", scopes=["sbom:write"])
    reader = create_token(session, Actor.system("t"), company, name="dash", scopes=["read"])
    session.commit()
    answer = client.get("/api/v1/team/self", headers={"X-Api-Key": writer.plaintext})
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["name"] == "Team Co: ci" and len(body["uuid"]) == 36
    assert [p["name"] for p in body["permissions"]] == [
        "BOM_UPLOAD",
        "PROJECT_CREATION_UPLOAD",
        "VIEW_PORTFOLIO",
    ]
    again = client.get("/api/v1/team/self", headers={"X-Api-Key": writer.plaintext})
    assert again.get_json()["uuid"] == body["uuid"]  # stable
    read_only = client.get("/api/v1/team/self", headers={"X-Api-Key": reader.plaintext})
    assert [p["name"] for p in read_only.get_json()["permissions"]] == ["VIEW_PORTFOLIO"]
    missing = client.get("/api/v1/team/self")
    assert missing.status_code == 401 and missing.mimetype == "application/problem+json"
