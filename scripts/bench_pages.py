"""Page benchmark: the CPU and the queries of the busiest company pages, in process.

    python scripts/bench_pages.py --database-url postgresql+psycopg://…/tributary_bench_pages
        [--seed] [--requests 20] [--rounds 3]
        [--against CHECKOUT --against-database-url URL]

Seeds the database with --seed (dropped and created again: 20 companies, 200 products with
an SBOM each, 10,000 distinct packages, as the load benchmark's data at a tenth of its
size; the first company's pages are measured), then in a fresh process per round signs in
as that company's owner and requests each page through the Flask test client: after three
warm-up requests, the mean CPU time and the number of SQL statements of `--requests`
requests. With --against, the same rounds alternate with another checkout of Tributary
(e.g. the code before a change, on its own database at its own migration) and the ratio
of the medians is reported.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SIZE = {"companies": 20, "products": 200, "packages": 10_000}
PAGES = {
    "dashboard": "/c/{slug}/",
    "dependencies": "/c/{slug}/dependencies",
    "risk": "/c/{slug}/risk",
    "proposals": "/c/{slug}/proposals",
    "projects": "/c/{slug}/projects",
}
SECRET = "bench-pages-" + "x" * 32


def measure(url: str, requests: int) -> dict[str, dict[str, float]]:
    """In this process (run from the checkout measured): {page: {cpu_ms, queries}}."""
    sys.path.insert(0, str(REPO / "scripts"))
    from bench_load import session_cookie  # (it puts this checkout on the path)

    sys.path.insert(0, str(Path.cwd()))  # the checkout measured comes first
    from sqlalchemy import Engine, event, text
    from sqlalchemy import create_engine as plain_engine

    os.environ.update(
        DATABASE_URL=url,
        TRIBUTARY_SECRET_KEY=SECRET,
        TRIBUTARY_RATE_LIMITS_ENABLED="false",
        TRIBUTARY_ENV="production",
    )
    from service.app import create_app

    reader = plain_engine(url)
    with reader.connect() as connection:
        user_id, version, slug = connection.execute(
            text(
                "SELECT u.id, u.session_version, c.slug FROM users u JOIN memberships m"
                " ON m.user_id = u.id JOIN companies c ON c.id = m.company_id"
                " ORDER BY c.id LIMIT 1"
            )
        ).one()
    reader.dispose()
    tenant = {"user_id": user_id, "session_version": version}
    client = create_app().test_client()
    client.set_cookie("tributary_session", session_cookie(SECRET, tenant))
    statements = [0]

    @event.listens_for(Engine, "before_cursor_execute")
    def _count(*_args):
        statements[0] += 1

    results = {}
    for name, path in PAGES.items():
        path = path.format(slug=slug)
        for _ in range(3):
            answer = client.get(path)
            if answer.status_code != 200:
                raise SystemExit(f"{path}: {answer.status_code}")
        statements[0] = 0
        began = time.process_time()
        for _ in range(requests):
            client.get(path)
        cpu = time.process_time() - began
        results[name] = {"cpu_ms": cpu / requests * 1000, "queries": statements[0] / requests}
    return results


def one_round(checkout: Path, url: str, requests: int) -> dict[str, dict[str, float]]:
    """A fresh process measuring `checkout` (its own code and templates)."""
    script = str(Path(__file__).resolve())
    command = [sys.executable, script, "--child", "--database-url", url, "--requests"]
    answer = subprocess.run(
        [*command, str(requests)],
        cwd=checkout,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(answer.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--seed", action="store_true")
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--against", type=Path)
    parser.add_argument("--against-database-url")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.database_url, args.requests)))
        return 0
    if args.seed:
        sys.path.insert(0, str(REPO))
        sys.path.insert(0, str(REPO / "scripts"))
        from bench_load import recreate_database, seed

        recreate_database(args.database_url)
        seed(args.database_url, SIZE)
    runs: dict[str, list[dict]] = {"this": [], "against": []}
    for _ in range(args.rounds):
        runs["this"].append(one_round(REPO, args.database_url, args.requests))
        if args.against:
            url = args.against_database_url or args.database_url
            runs["against"].append(one_round(args.against, url, args.requests))
    print(f"load average {os.getloadavg()[0]:.1f}; medians of {args.rounds} rounds")
    print("| page | queries | CPU ms | reference queries | reference CPU ms | ratio |")
    print("|---|---:|---:|---:|---:|---:|")
    for page in PAGES:
        this = statistics.median(run[page]["cpu_ms"] for run in runs["this"])
        queries = runs["this"][0][page]["queries"]
        if not args.against:
            print(f"| {page} | {queries:.0f} | {this:.1f} | | | |")
            continue
        other = statistics.median(run[page]["cpu_ms"] for run in runs["against"])
        their_queries = runs["against"][0][page]["queries"]
        print(
            f"| {page} | {queries:.0f} | {this:.1f} | {their_queries:.0f} | {other:.1f} |"
            f" {this / other:.2f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
