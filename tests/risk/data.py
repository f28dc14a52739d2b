"""Builders for risk tests: SBOMs stored through the real ingest, then resolutions,
projects, metadata cache rows and funding written as resolution would write them."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlmodel import Session, select

from service.audit.services import Actor
from service.companies.models import Company
from service.projects.models import (
    MetadataCacheEntry,
    Project,
)
from service.projects.providers.base import PackageMetadata
from service.sboms.models import Package
from service.sboms.services import ingest
from tests.factories import (
    make_funding_channel,
    make_metadata_cache_entry,
    make_package_resolution,
    make_project,
)

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)
FETCHED = datetime(2026, 3, 1, 8, 30, tzinfo=UTC)
FETCHED_ISO = "2026-03-01T08:30:00Z"
ACTOR = Actor.system("test")


def cyclonedx_graph(
    direct: list[str], edges: dict[str, list[str]] | None = None, *, name: str = "app"
) -> bytes:
    """A CycloneDX 1.5 document: the root depends on `direct`, `edges` add deeper levels.

    Packages are purls without version ("pkg:npm/left-pad"); each gets version 1.0.0.
    """
    edges = edges or {}
    purls = list(dict.fromkeys([*direct, *edges, *(c for cs in edges.values() for c in cs)]))
    ref = {purl: f"c{i}" for i, purl in enumerate(purls)}
    components = [
        {
            "type": "library",
            "bom-ref": ref[purl],
            "name": purl.rsplit("/", 1)[-1],
            "version": "1.0.0",
            "purl": f"{purl}@1.0.0",
        }
        for purl in purls
    ]
    dependencies = [{"ref": "root", "dependsOn": [ref[p] for p in direct]}] + [
        {"ref": ref[p], "dependsOn": [ref[c] for c in edges.get(p, [])]} for p in purls
    ]
    document = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "version": 1,
        "metadata": {"component": {"type": "application", "name": name, "bom-ref": "root"}},
        "components": components,
        "dependencies": dependencies,
    }
    return json.dumps(document).encode()


def upload(
    session: Session,
    company: Company,
    product: str,
    direct: list[str],
    edges: dict[str, list[str]] | None = None,
):
    result = ingest(
        session, ACTOR, company, product, cyclonedx_graph(direct, edges, name=product), source="cli"
    )
    session.commit()
    return result.sbom


def package(session: Session, key: str) -> Package:
    return session.exec(select(Package).where(Package.key == key)).one()


def resolve(session: Session, package_key: str, project: Project) -> None:
    make_package_resolution(session, package(session, package_key), project, resolved_at=FETCHED)


def cache_row(
    session: Session, source: str, key: str, fetched_at: datetime = FETCHED, **metadata
) -> MetadataCacheEntry:
    data = PackageMetadata(**metadata).to_dict()
    return make_metadata_cache_entry(session, source, key, fetched_at=fetched_at, data=data)


def funding_channel(session: Session, project: Project, source: str = "FUNDING.yml") -> None:
    make_funding_channel(session, project, source=source, found_at=FETCHED)


def acme_scenario(session: Session, company: Company) -> dict[str, Project]:
    """Four products; three use left-pad directly, worker uses framework → tiny.

    - left-pad (github.com/left/pad): npm, deps.dev and GitHub rows, no funding;
    - framework (github.com/fw/framework): only a funding channel;
    - tiny (github.com/tiny/tiny): nothing but the SBOMs (depth 2 in worker).
    """
    for product in ("web", "api", "cli"):
        upload(session, company, product, ["pkg:npm/left-pad", "pkg:npm/unknown-thing"])
    upload(
        session,
        company,
        "worker",
        ["pkg:pypi/framework"],
        {"pkg:pypi/framework": ["pkg:pypi/tiny"]},
    )
    left = make_project(session, "github.com/left/pad", archived=False)
    framework = make_project(session, "github.com/fw/framework")
    tiny = make_project(session, "github.com/tiny/tiny")
    resolve(session, "pkg:npm/left-pad", left)
    resolve(session, "pkg:pypi/framework", framework)
    resolve(session, "pkg:pypi/tiny", tiny)
    cache_row(
        session,
        "npm",
        "pkg:npm/left-pad",
        publishers_count=1,
        latest_release_at=datetime(2024, 1, 1, tzinfo=UTC),
        deprecated=False,
    )
    cache_row(
        session,
        "depsdev",
        "pkg:npm/left-pad",
        scorecard={"overall": 3.0, "maintained": 0},
        advisories=2,
        dependents=500,
    )
    cache_row(session, "github", "pkg:github/left/pad", active_contributors=1, archived=False)
    funding_channel(session, framework)
    return {"left": left, "framework": framework, "tiny": tiny}
