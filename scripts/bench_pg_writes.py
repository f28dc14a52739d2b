"""Where PostgreSQL's own time goes when an upload's component rows are written.

`sbom ingest` of a 100,000-component document into PostgreSQL waits on the server after
the client has sent the rows (see docs/benchmarks.md, "Storing"). This splits that
server time: one generated document is ingested into a fresh database, then its stored
rows are written again into `sbom_components`, in transactions that are rolled back,
four ways in alternating rounds (each change is made inside the transaction, so it is
undone too):

- as migrated: three indexes, and the statement trigger that checks the references
  (migration 0024);
- the two foreign keys (`sbom_id`, `package_id`) in the trigger's place, as before 0024;
- no reference checks at all;
- no reference checks and no secondary indexes (the primary key stays).

The INSERT … SELECT from a temporary copy is the server's part of the COPY that ingest
sends, without the client and the wire. Figures are medians of the rounds.

    .venv/bin/python scripts/bench_pg_writes.py [--count 100000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(REPO_ROOT / "scripts"))

from bench_ingest import POSTGRES_URL, _postgres_database  # noqa: E402

COLUMNS = "sbom_id, package_id, name, version, purl, depth, identity, hints"
NO_CHECKS = ["DROP TRIGGER sbom_components_references_on_insert ON sbom_components"]
VARIANTS = {
    "as migrated: 3 indexes, the statement trigger": [],
    "3 indexes, the two foreign keys instead (before 0024)": [
        *NO_CHECKS,
        "ALTER TABLE sbom_components ADD CONSTRAINT sbom_components_sbom_id_fkey "
        "FOREIGN KEY (sbom_id) REFERENCES sboms (id)",
        "ALTER TABLE sbom_components ADD CONSTRAINT sbom_components_package_id_fkey "
        "FOREIGN KEY (package_id) REFERENCES packages (id)",
    ],
    "3 indexes, no reference checks": NO_CHECKS,
    "the primary key only, no reference checks": [
        *NO_CHECKS,
        "DROP INDEX ix_sbom_components_package_id",
        "DROP INDEX ix_sbom_components_sbom_id_package_id",
    ],
}


def ingest_document(url: str, count: int) -> int:
    """Store one generated CycloneDX document through the service; its component count."""
    from generate_sboms import generate_cyclonedx

    from service.audit.services import Actor
    from service.companies.models import Company
    from service.db import Database
    from service.sboms.services import ingest

    data = json.dumps(generate_cyclonedx(count)).encode()
    database = Database(url)
    with database.transaction() as session:
        company = Company(slug="bench", name="Bench")
        session.add(company)
        session.flush()
        result = ingest(session, Actor.system("bench"), company, "app", data, source="cli")
        stored = result.sbom.component_count
    database.engine.dispose()
    return stored


def write_again(url: str, statements: list[str]) -> float:
    """Seconds the server takes to insert the stored rows once more (rolled back)."""
    import psycopg
    from sqlalchemy.engine import make_url

    plain = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(plain) as connection, connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMPORARY TABLE staged AS SELECT {COLUMNS} FROM sbom_components")
        for statement in statements:
            cursor.execute(statement)
        start = time.perf_counter()
        cursor.execute(f"INSERT INTO sbom_components ({COLUMNS}) SELECT {COLUMNS} FROM staged")
        seconds = time.perf_counter() - start
        connection.rollback()
    return seconds


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    url, note, cleanup = _postgres_database()
    if url is None:
        sys.exit(f"{note} ({POSTGRES_URL})")
    try:
        rows = ingest_document(url, args.count)
        times: dict[str, list[float]] = {label: [] for label in VARIANTS}
        for round_number in range(args.rounds):
            order = list(VARIANTS) if round_number % 2 == 0 else list(reversed(VARIANTS))
            for label in order:
                times[label].append(write_again(url, VARIANTS[label]))
    finally:
        if cleanup:
            cleanup()
    full = statistics.median(times[next(iter(VARIANTS))])
    load = os.getloadavg()[0]
    print(f"{note}; {rows:,} component rows; {args.rounds} rounds; load average {load:.1f}\n")
    print("| the rows written into | server s | share of the full write |")
    print("|---|---:|---:|")
    for label, seconds in times.items():
        median = statistics.median(seconds)
        print(f"| {label} | {median:.2f} | {median / full:.0%} |")


if __name__ == "__main__":
    main()
