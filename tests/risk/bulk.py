"""A large inventory written with bulk inserts (no ORM object per row), for the
dependency table's scale test and scripts/bench_risk_table.py.

Package i (0-based) of N:
- ecosystem ECOSYSTEMS[i % 4]; used by the first 1 + i % 4 products;
- depth unknown when i % 10 == 0, else 1 + i % 3 (the same in every product);
- unresolved when i % 7 == 0, else resolved to project i // 4;
- project p is funded (a funding channel) when p % 5 == 0 and scored (p * 37) % 101.

`expected()` gives the same facts as plain rows, so tests can count what a filter keeps.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import insert
from sqlmodel import Session, col, select

from service.companies.models import Company
from service.projects.models import FundingChannel, PackageResolution, Project
from service.risk.models import ProjectRisk
from service.sboms.models import Package, Product, Sbom, SbomComponent

ECOSYSTEMS = ("npm", "pypi", "cargo", "maven")
PRODUCTS = 4
CHUNK = 2000
WHEN = datetime(2026, 3, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Fact:
    key: str
    ecosystem: str
    products: int
    depth: int | None
    project: int | None  # index, not id
    funded: bool | None
    score: float | None


def fact(i: int, prefix: str) -> Fact:
    project = None if i % 7 == 0 else i // 4
    return Fact(
        key=f"pkg:{ECOSYSTEMS[i % 4]}/{prefix}-{i:06d}",
        ecosystem=ECOSYSTEMS[i % 4],
        products=1 + i % PRODUCTS,
        depth=None if i % 10 == 0 else 1 + i % 3,
        project=project,
        funded=None if project is None else project % 5 == 0,
        score=None if project is None else float((project * 37) % 101),
    )


def expected(n: int, prefix: str = "bulk") -> list[Fact]:
    return [fact(i, prefix) for i in range(n)]


def _insert(session: Session, table, rows: list[dict]) -> None:
    for start in range(0, len(rows), CHUNK):
        session.exec(insert(table), params=rows[start : start + CHUNK])


def build(session: Session, company: Company, n: int, prefix: str = "bulk") -> list[Fact]:
    facts = expected(n, prefix)
    products = [Product(company_id=company.id, name=f"{prefix}-product-{j}") for j in range(4)]
    session.add_all(products)
    session.flush()
    sboms = [
        Sbom(
            product_id=p.id,
            company_id=company.id,
            content_sha256=f"{prefix}{j}".ljust(64, "0"),
            format="cyclonedx",
            spec_version="1.5",
            encoding="json",
            source="cli",
            component_count=0,
        )
        for j, p in enumerate(products)
    ]
    session.add_all(sboms)
    session.flush()
    _insert(
        session,
        Package.__table__,
        [{"key": f.key, "ecosystem": f.ecosystem, "name": f.key.rsplit("/", 1)[-1]} for f in facts],
    )
    ids = dict(
        session.exec(
            select(Package.key, Package.id).where(col(Package.key).like(f"pkg:%/{prefix}-%"))
        ).all()
    )
    _insert(
        session,
        SbomComponent.__table__,
        [
            {
                "sbom_id": sboms[j].id,
                "package_id": ids[f.key],
                "name": f.key.rsplit("/", 1)[-1],
                "version": "1.0.0",
                "purl": f.key + "@1.0.0",
                "depth": f.depth,
                "hints": [],
            }
            for f in facts
            for j in range(f.products)
        ],
    )
    project_indexes = sorted({f.project for f in facts if f.project is not None})
    _insert(
        session,
        Project.__table__,
        [
            {
                "key": f"github.com/{prefix}/p{p:06d}",
                "host": "github.com",
                "owner": prefix,
                "name": f"p{p:06d}",
                "repository_url": f"https://github.com/{prefix}/p{p:06d}",
                "repo_status": "ok",
                "created_at": WHEN,
                "updated_at": WHEN,
            }
            for p in project_indexes
        ],
    )
    project_ids = dict(
        session.exec(select(Project.name, Project.id).where(Project.owner == prefix)).all()
    )

    def pid(index: int) -> int:
        return project_ids[f"p{index:06d}"]

    _insert(
        session,
        PackageResolution.__table__,
        [
            {
                "package_id": ids[f.key],
                "project_id": pid(f.project),
                "status": "resolved",
                "source": "purl",
                "attempts": 0,
                "updated_at": WHEN,
            }
            for f in facts
            if f.project is not None
        ],
    )
    _insert(
        session,
        FundingChannel.__table__,
        [
            {
                "project_id": pid(p),
                "kind": "github_sponsors",
                "handle": f"m{p}",
                "source": "FUNDING.yml",
                "found_at": WHEN,
            }
            for p in project_indexes
            if p % 5 == 0
        ],
    )
    _insert(
        session,
        ProjectRisk.__table__,
        [
            {
                "company_id": company.id,
                "project_id": pid(p),
                "taken_on": date(2026, 3, 1),
                "score": float((p * 37) % 101),
                "coverage": 0.5,
                "dependence": 1.0,
                "exposure": float((p * 37) % 101),
                "inputs_digest": "0" * 64,
                "updated_at": WHEN,
            }
            for p in project_indexes
        ],
    )
    session.commit()
    return facts
