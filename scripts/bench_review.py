# ruff: noqa: RUF001 - reasons and tables use the signs the pages show
"""Benchmark the monthly review page and proposal generation on PostgreSQL.

Creates a fresh database on the PostgreSQL server at ``--postgres`` (default
``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``), migrates it, bulk-inserts the
data (Core inserts, no ORM object per row) and drops the database at the end. Times:

1. **The review page** ``GET /c/<slug>/proposals/<period>`` through the Flask test client
   (server time: access check, queries, diff, Jinja) for a proposal with 2,000 paid lines
   (plus 200 held and 300 omitted), each project with a claim, maintainers and a funding
   channel, a previous approved month for the diff and a few adjustments: as a reviewer
   (every line carries its adjustment form), as a viewer, filtered and sorted, and with
   all 2,000 lines on one page. Sorting, filtering and the diff always cover every line;
   the page shows 100 of them at a time by default. Median of ``--runs`` (default 20)
   after a warm-up. Target: under 300 ms.
2. **Generating** a proposal end to end (inventory → candidates → engine → store) for
   50 products, 20,000 packages and 5,000 projects (~60,000 SBOM components, latest risk
   snapshots, claims, funding channels, linked organisations). Median of 3.

Prints a markdown table; ``--write`` also puts it under "## Allocation review" in
docs/benchmarks.md (replacing an earlier section of that name, keeping the others).

    python scripts/bench_review.py            # markdown on stdout
    python scripts/bench_review.py --write    # and into docs/benchmarks.md
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(REPO_ROOT / "scripts"))

from benchdocs import timed, write_section  # noqa: E402

SECTION = "## Allocation review"
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
WHEN = datetime(2026, 11, 1, tzinfo=UTC)
CHUNK = 2000
PERIOD, PREVIOUS = "2026-12", "2026-11"


def insert(session, table, rows: list[dict]) -> None:
    from sqlalchemy import insert as sa_insert

    for start in range(0, len(rows), CHUNK):
        session.execute(sa_insert(table), rows[start : start + CHUNK])


def make_projects(session, prefix: str, count: int) -> list[int]:
    from sqlmodel import col, select

    from service.projects.models import Project

    insert(
        session,
        Project.__table__,
        [
            {
                "key": f"github.com/{prefix}{p % 400}/p{p:05d}",
                "host": "github.com",
                "owner": f"{prefix}{p % 400}",
                "name": f"p{p:05d}",
                "repository_url": f"https://github.com/{prefix}{p % 400}/p{p:05d}",
                "repo_status": "ok",
                "created_at": WHEN,
                "updated_at": WHEN,
            }
            for p in range(count)
        ],
    )
    rows = session.execute(
        select(Project.name, Project.id).where(col(Project.key).like(f"github.com/{prefix}%"))
    ).all()
    ids = dict(rows)
    return [ids[f"p{p:05d}"] for p in range(count)]


def people(session, project_ids: list[int], users: list[int], claimed_every: int) -> None:
    from service.projects.models import FundingChannel, Maintainer, ProjectClaim

    insert(
        session,
        ProjectClaim.__table__,
        [
            {
                "project_id": pid,
                "user_id": users[i % len(users)],
                "status": "active",
                "evidence": "admin",
                "evidence_detail": {},
                "claimed_at": WHEN,
                "verified_at": WHEN,
            }
            for i, pid in enumerate(project_ids)
            if i % claimed_every == 0
        ],
    )
    insert(
        session,
        FundingChannel.__table__,
        [
            {
                "project_id": pid,
                "kind": "github_sponsors",
                "handle": f"m{i}",
                "url": f"https://github.com/sponsors/m{i}",
                "source": "FUNDING.yml",
                "found_at": WHEN,
            }
            for i, pid in enumerate(project_ids)
            if i % 3 == 0
        ],
    )
    insert(
        session,
        Maintainer.__table__,
        [
            {
                "project_id": pid,
                "login": f"dev{i}-{k}",
                "role": "maintainer",
                "source": "npm",
                "found_at": WHEN,
            }
            for i, pid in enumerate(project_ids)
            for k in range(1 + i % 3)
        ],
    )


def risk_rows(company_id: int, project_ids: list[int]) -> list[dict]:
    return [
        {
            "company_id": company_id,
            "project_id": pid,
            "taken_on": date(2026, 11, 1),
            "score": float((i * 37) % 101),
            "coverage": 0.7,
            "criticality": None,
            "dependence": 1.0,
            "breakdown": [
                {"signal": "publishers", "contribution": float(i % 30)},
                {"signal": "bus_factor", "contribution": float(i % 20)},
                {"signal": "release_age", "contribution": float(i % 10)},
                {"signal": "advisories", "contribution": float(i % 5)},
            ],
            "missing": [],
            "inputs_digest": "0" * 64,
            "computed_at": WHEN,
        }
        for i, pid in enumerate(project_ids)
    ]


def build_review(session, users: dict[str, int]) -> None:
    """Company "review": a proposal of 2,000 paid lines (+ held, omitted), last month's."""
    from service.allocation.models import Adjustment, Proposal, ProposalLine
    from service.companies.models import Company, Membership, Role
    from service.risk.models import RiskSnapshot

    company = Company(slug="review", name="Review Co", monthly_budget_minor=10_000_000)
    session.add(company)
    session.flush()
    for login, role in (
        ("owner", Role.owner),
        ("reviewer", Role.reviewer),
        ("viewer", Role.viewer),
    ):
        session.add(Membership(company_id=company.id, user_id=users[login], role=role))
    ids = make_projects(session, "rv", 2500)
    people(session, ids, list(users.values()), claimed_every=2)
    insert(session, RiskSnapshot.__table__, risk_rows(company.id, ids))
    products = [f"product-{j:02d}" for j in range(12)]

    def proposal(period: str, state: str) -> int:
        made = Proposal(
            company_id=company.id,
            period=period,
            revision=1,
            state=state,
            budget_minor=10_000_000,
            currency="USD",
            paid_minor=9_000_000,
            held_minor=1_000_000,
            remainder_minor=0,
            cap_minor=1_000_000,
            minimum_minor=500,
            granularity=1,
            policy={"cap": 0.1},
            stats={"products": 12, "packages": 9000, "unresolved_packages": 400, "projects": 2500},
            generated_by="scheduler",
            created_at=WHEN,
            computed_at=WHEN,
            decided_at=WHEN if state == "approved" else None,
        )
        session.add(made)
        session.flush()
        return made.id

    def lines(proposal_id: int, shift: int) -> list[dict]:
        rows = []
        for i, pid in enumerate(ids):
            kind = "line" if i < 2000 else ("held" if i < 2200 else "omitted")
            uses = [
                {"name": products[(i + k) % 12], "depth": 1 + (i + k) % 3} for k in range(1 + i % 5)
            ]
            rows.append(
                {
                    "proposal_id": proposal_id,
                    "project_id": pid,
                    "project_key": f"github.com/rv{i % 400}/p{i:05d}",
                    "kind": kind,
                    "amount_minor": 0 if kind == "omitted" else 500 + ((i * 7919 + shift) % 9000),
                    "share": 0.0005,
                    "weight": 1.0 + (i % 7) / 3,
                    "risk": float((i * 37) % 101),
                    "risk_breakdown": [
                        ["publishers", float(i % 30)],
                        ["bus_factor", float(i % 20)],
                    ],
                    "products": uses,
                    "claimed": kind == "line",
                    "first_party": False,
                    "ecosystem": "npm",
                    "months_held": 0,
                    "reason": (
                        f"used by {len(uses)} of 12 products ("
                        + ", ".join(f"{u['name']} at depth {u['depth']}" for u in uses)
                        + f"); risk {(i * 37) % 101} → ×{1 + ((i * 37) % 101) / 100 - 0.5:.2f}"
                    )
                    if kind != "omitted"
                    else "excluded by policy (owner rv1)",
                    "flags": ["capped"] if i % 97 == 0 else [],
                    "omitted_code": "policy_excluded" if kind == "omitted" else None,
                }
            )
        return rows

    insert(session, ProposalLine.__table__, lines(proposal(PREVIOUS, "approved"), 13))
    current = proposal(PERIOD, "in_review")
    insert(session, ProposalLine.__table__, lines(current, 0))
    for k in range(10):
        session.add(
            Adjustment(
                proposal_id=current,
                project_id=ids[k * 50],
                kind="boost",
                value="1.5",
                user_id=users["reviewer"],
                created_at=WHEN,
            )
        )


def build_generate(session, users: dict[str, int]) -> int:
    """Company "big": 50 products, 20,000 packages, 5,000 projects."""
    from sqlmodel import col, select

    from service.allocation.models import AllocationPolicy
    from service.companies.models import Company, LinkedOrg, Membership, Role
    from service.projects.models import PackageResolution
    from service.risk.models import RiskSnapshot
    from service.sboms.models import Package, Product, Sbom, SbomComponent

    company = Company(slug="big", name="Big Co", monthly_budget_minor=50_000_000)
    session.add(company)
    session.flush()
    session.add(Membership(company_id=company.id, user_id=users["owner"], role=Role.owner))
    session.add(LinkedOrg(company_id=company.id, org_login="bg7"))
    session.add(AllocationPolicy(company_id=company.id, policy={"cap": 0.05}))
    products = [Product(company_id=company.id, name=f"service-{j:02d}") for j in range(50)]
    session.add_all(products)
    session.flush()
    sboms = [
        Sbom(
            product_id=p.id,
            company_id=company.id,
            content_sha256=f"{j:064d}",
            format="cyclonedx",
            spec_version="1.5",
            encoding="json",
            source="cli",
        )
        for j, p in enumerate(products)
    ]
    session.add_all(sboms)
    session.flush()
    packages = 20_000
    ecosystems = ("npm", "pypi", "maven", "cargo")
    insert(
        session,
        Package.__table__,
        [
            {
                "key": f"pkg:{ecosystems[i % 4]}/bg-{i:05d}",
                "ecosystem": ecosystems[i % 4],
                "name": f"bg-{i:05d}",
            }
            for i in range(packages)
        ],
    )
    package_ids = dict(
        session.execute(
            select(Package.name, Package.id).where(col(Package.name).like("bg-%"))
        ).all()
    )
    insert(
        session,
        SbomComponent.__table__,
        [
            {
                "sbom_id": sboms[(i * 7 + k * 13) % 50].id,
                "package_id": package_ids[f"bg-{i:05d}"],
                "name": f"bg-{i:05d}",
                "version": "1.0.0",
                "purl": f"pkg:{ecosystems[i % 4]}/bg-{i:05d}@1.0.0",
                "depth": None if i % 11 == 0 else 1 + (i + k) % 4,
                "hints": [],
            }
            for i in range(packages)
            for k in range(1 + i % 5)
        ],
    )
    ids = make_projects(session, "bg", 5000)
    insert(
        session,
        PackageResolution.__table__,
        [
            {
                "package_id": package_ids[f"bg-{i:05d}"],
                "project_id": ids[i // 4],
                "status": "resolved",
                "source": "purl",
                "attempts": 0,
                "updated_at": WHEN,
            }
            for i in range(packages)
        ],
    )
    people(session, ids, list(users.values()), claimed_every=4)
    insert(session, RiskSnapshot.__table__, risk_rows(company.id, ids))
    return company.id


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--postgres", default=os.environ.get("TRIBUTARY_TEST_POSTGRES_URL", DEFAULT_POSTGRES)
    )
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args(argv)

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"tributary_bench_{os.getpid()}"
    admin = create_engine(args.postgres, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
        version = connection.execute(text("SHOW server_version")).scalar()
    url = make_url(args.postgres).set(database=name).render_as_string(hide_password=False)
    try:
        lines, built = run(url, args.runs)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    when = datetime.now(UTC).strftime("%Y-%m-%d")
    report = [
        SECTION,
        "",
        f"`scripts/bench_review.py`, PostgreSQL {version.split()[0]}, Python "
        f"{platform.python_version()}, {when}. Server time through the Flask test client; "
        f"page figures are the median of {args.runs} runs after a warm-up, generation the "
        f"median of 3. Building the data took {built:.1f} s.",
        "",
        "| what | time | target |",
        "|---|---:|---:|",
        *(f"| {label} | {seconds * 1000:,.0f} ms | {target} |" for label, seconds, target in lines),
        "",
        "The review page reads a light index of every line (amount, share, weight, risk, "
        "flags, product count: one query), the previous approved month's amounts for the "
        "diff (one), the adjustments, then the full rows of the page shown and their "
        "claims, maintainer counts and funding channels (four small queries); sorting, "
        "filtering and the diff run in Python over the index, so they always cover every "
        "line. Most of the rest is Jinja rendering one row (and, for reviewers, one "
        "adjustment form) per line shown. Generating reads the "
        "inventory (one grouped scan of the latest SBOMs' components), the latest risk "
        "snapshot per project, claims and funding, runs the exact engine and bulk-inserts "
        "one row per candidate project.",
        "",
    ]
    text_report = "\n".join(report)
    print(text_report)
    if args.write:
        write_section(SECTION, text_report)
    return 0


def run(url: str, runs: int) -> tuple[list[tuple[str, float, str]], float]:
    from sqlmodel import select

    from service.accounts.models import User
    from service.allocation.generation import generate_proposal
    from service.allocation.queries import lines_of
    from service.app import create_app
    from service.audit.services import Actor
    from service.companies.models import Company

    app = create_app(
        {
            "env": "development",
            "database_url": url,
            "instance_path": tempfile.mkdtemp(prefix="tributary-bench-"),
        }
    )
    lines: list[tuple[str, float, str]] = []
    try:
        with app.app_context():
            database = app.extensions["tributary.db"]
            database.upgrade()
            began = time.perf_counter()
            with database.transaction() as session:
                users = {}
                for number, login in enumerate(("owner", "reviewer", "viewer"), start=1):
                    user = User(github_id=number, login=login)
                    session.add(user)
                    session.flush()
                    users[login] = user.id
                build_review(session, users)
                big_id = build_generate(session, users)
            with database.engine.connect() as connection:
                connection.exec_driver_sql("ANALYZE")
                connection.commit()
            built = time.perf_counter() - began

            views = {
                "review page, reviewer (first page: 100 lines with adjustment forms)": (
                    "reviewer",
                    "",
                    "300 ms",
                ),
                "review page, viewer (first page)": ("viewer", "", "300 ms"),
                "review page, sorted by risk, filtered to risk ≥ 50": (
                    "reviewer",
                    "?sort=risk&order=desc&risk_min=50",
                    "300 ms",
                ),
                "review page, only the changed lines, by change": (
                    "reviewer",
                    "?flag=changed&sort=change",
                    "300 ms",
                ),
                "review page, all 2,000 lines on one page (“show all”), reviewer": (
                    "reviewer",
                    "?per_page=10000",
                    "–",
                ),
            }
            for label, (login, query, target) in views.items():
                client = app.test_client()
                with client.session_transaction() as flask_session:
                    flask_session["user_id"] = users[login]

                def get(client=client, query=query):
                    response = client.get(f"/c/review/proposals/{PERIOD}{query}")
                    assert response.status_code == 200, response.status_code
                    return response

                lines.append((label, timed(get, runs), target))

            actor = Actor(user_id=users["owner"])

            def generate():
                with database.transaction() as session:
                    company = session.exec(select(Company).where(Company.id == big_id)).one()
                    return generate_proposal(session, actor, company, PERIOD, replace=True)

            samples = []
            for _ in range(3):
                began = time.perf_counter()
                made = generate()
                samples.append(time.perf_counter() - began)
            with database.transaction() as session:
                paid = len([line for line in lines_of(session, made.id) if line.kind == "line"])
            lines.append(
                (
                    f"generate: 50 products, 20,000 packages, 5,000 projects → {paid:,} paid lines",
                    statistics.median(samples),
                    "–",
                )
            )
    finally:
        app.extensions["tributary.db"].engine.dispose()
        app.extensions["tributary.http"].close()
    return lines, built


if __name__ == "__main__":
    raise SystemExit(main())
