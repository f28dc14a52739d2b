"""Benchmark the dependency table (/c/<slug>/dependencies) at 20,000 packages.

Builds a company with N packages (default 20,000) over four products in a fresh SQLite
database with bulk inserts (tests/risk/bulk.py: ~50,000 SBOM components, ~4,300
projects, funding channels and current risk scores), then times:

- the table query alone (filter + sort + count + one page, `dependency_table`), for the
  default view, a filtered view and the last page of a sort by depth;
- the whole page through the Flask test client (access check, query, Jinja), same views;
- a full `recompute_company` of that inventory (what "Recompute now" does).

Each figure is the median of 5 runs after one warm-up (recompute: 3 runs, first is a
full rescore, the rest find nothing changed). Prints a markdown table;
`--write` also puts it under "## Risk table" in docs/benchmarks.md (replacing an earlier
"Risk table" section, leaving every other section as it is).

    python scripts/bench_risk_table.py            # markdown on stdout
    python scripts/bench_risk_table.py --write    # and into docs/benchmarks.md
"""

from __future__ import annotations

import argparse
import platform
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(REPO_ROOT / "scripts"))

from benchdocs import timed, write_section  # noqa: E402

SECTION = "## Risk table"

VIEWS = {
    "default (riskiest first, page 1)": {},
    "filtered: npm, depth 1, unfunded, risk ≥ 50, by package": {
        "ecosystem": "npm",
        "depth": "1",
        "funding": "unfunded",
        "risk_min": "50",
        "sort": "package",
        "order": "asc",
    },
    "sort by depth, last page": {"sort": "depth", "order": "desc", "page": "200"},
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packages", type=int, default=20_000)
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args(argv)

    from urllib.parse import urlencode

    from service.accounts.models import User
    from service.app import create_app
    from service.companies.models import Company, Membership, Role
    from service.risk.services import recompute_company
    from service.risk.table import dependency_table, parse_query
    from tests.risk.bulk import build

    tmp = tempfile.mkdtemp(prefix="tributary-bench-")
    app = create_app(
        {"env": "development", "database_url": f"sqlite:///{tmp}/bench.db", "instance_path": tmp}
    )
    lines: list[tuple[str, float]] = []
    with app.app_context():
        database = app.extensions["tributary.db"]
        database.upgrade()
        began = time.perf_counter()
        with database.transaction() as session:
            user = User(github_id=1, login="bench")
            company = Company(slug="bench", name="Bench")
            session.add_all([user, company])
            session.flush()
            session.add(Membership(company_id=company.id, user_id=user.id, role=Role.viewer))
            build(session, company, args.packages)
            company_id, user_id = company.id, user.id
        built = time.perf_counter() - began

        for label, params in VIEWS.items():
            query, errors = parse_query(params)
            assert not errors, errors

            def run_query(query=query):
                with database.transaction() as session:
                    return dependency_table(session, company_id, query)

            lines.append((f"query — {label}", timed(run_query)))

        client = app.test_client()
        with client.session_transaction() as flask_session:
            flask_session["user_id"] = user_id
        for label, params in VIEWS.items():
            url = "/c/bench/dependencies" + ("?" + urlencode(params) if params else "")

            def get(url=url):
                response = client.get(url)
                assert response.status_code == 200, response.status_code
                return response

            lines.append((f"page — {label}", timed(get)))

        def recompute():
            with database.transaction() as session:
                recompute_company(session, session.get(Company, company_id))

        began = time.perf_counter()
        recompute()
        first = time.perf_counter() - began
        began = time.perf_counter()
        recompute()
        unchanged = time.perf_counter() - began
        lines.append(("recompute_company — first (every project rescored)", first))
        lines.append(("recompute_company — again (nothing changed)", unchanged))

    when = datetime.now(UTC).strftime("%Y-%m-%d")
    report = [
        SECTION,
        "",
        f"`scripts/bench_risk_table.py`, {args.packages:,} packages over 4 products "
        f"(~{round(args.packages * 2.5):,} SBOM components), SQLite {sqlite3.sqlite_version}, "
        f"Python {platform.python_version()}, {when}. Median of 5 runs after a warm-up; "
        f"building the data took {built:.1f} s.",
        "",
        "| what | time |",
        "|---|---:|",
        *(f"| {label} | {seconds * 1000:,.0f} ms |" for label, seconds in lines),
        "",
        "Filtering, sorting, counting (a window count) and paging happen in one SQL query "
        "per view; one more grouped query gives the totals per ecosystem, and one small one "
        "the page's product names. The cost is two grouped scans of the latest SBOMs' "
        "components; nothing builds a Python object per package.",
        "",
    ]
    text = "\n".join(report)
    print(text)
    if args.write:
        write_section(SECTION, text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
