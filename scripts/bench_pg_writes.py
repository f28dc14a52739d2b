"""Where PostgreSQL's own time goes when an upload's component rows are written.

`sbom ingest` of a 100,000-component document waits on the server for most of its
PostgreSQL time after the client has sent the rows (see docs/benchmarks.md, "Storing").
This splits that server time: one generated document is ingested into a fresh database,
then its stored rows are written again into `sbom_components`, in transactions that are
rolled back, three ways in alternating rounds:

- as the schema is: three indexes and two foreign keys (`sbom_id`, `package_id`);
- without the foreign keys (dropped inside the transaction, so the drop is undone too);
- without the foreign keys and the two secondary indexes (the primary key stays).

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
VARIANTS = {
    "as the schema is (3 indexes, 2 foreign keys)": [],
    "without the foreign keys": [
        "ALTER TABLE sbom_components DROP CONSTRAINT sbom_components_sbom_id_fkey",
        "ALTER TABLE sbom_components DROP CONSTRAINT sbom_components_package_id_fkey",
    ],
    "without the foreign keys and the secondary indexes": [
        "ALTER TABLE sbom_components DROP CONSTRAINT sbom_components_sbom_id_fkey",
        "ALTER TABLE sbom_components DROP CONSTRAINT sbom_components_package_id_fkey",
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
