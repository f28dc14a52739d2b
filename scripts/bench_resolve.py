"""Benchmark resolution: 2,000 distinct packages (npm, PyPI, Maven, Cargo, RubyGems; two
packages per repository, so 1,000 repositories) through the real resolution service into a
fresh SQLite database, against the fake registries with 50 ms of latency per request (every
source on its own port, so the per-host limit of 4 applies to each source as it would to the
real hosts).

Three runs of each stage, with a controlled clock:

1. first run — empty cache;
2. again within the TTL — every answer comes from the shared cache;
3. with the clock moved past the TTL (8 days) — conditional requests, answered 304.

Stage A resolves packages to repositories with the package sources (registries; deps.dev
only where no repository is known — never, in this catalogue; ecosyste.ms in batches of 100
for every linked package's signals). Stage B reads the 1,000 repositories through the GitHub
API (repository, FUNDING.yml, funding.json, contributors), as resolution does after linking;
it is measured on its own
because GitHub's rate limit (5,000 requests an hour with a token) — not latency — is what
bounds it in production. Stage B reads them without a token (REST: the repository, one
root listing, the funding files it lists, the contributors); stage C with a token (GraphQL,
25 repositories a query).

Resolution runs in worker processes of their own (``--workers 1,2,4``: each count in turn,
on a fresh database), all at once, as workers of the task queue resolving several
companies' SBOMs that share packages do: of N workers, worker i resolves the i-th N-th of
the packages and half of the next one (so every package is wanted by one or two workers
and all of them together are the 2,000). Each worker has its own app, engine and
outbound client, so only what they share through the database (the
metadata cache, the fetch leases and, on PostgreSQL, the outbound slots, spacing and
pauses) keeps them from asking twice or sending more than the per-host limit. The fake
registries run in a child process too and report the most requests each source was
answering at once. Peak memory is the largest peak RSS of the workers.

    .venv/bin/python scripts/bench_resolve.py [--packages 2000] [--latency 0.05]
        [--crates-interval 1.0] [--workers 1,2,4] [--postgres ADMIN_URL] [--db-prefix P]

``--postgres`` runs on a fresh PostgreSQL database per worker count (named after
``--db-prefix``), made (and dropped) on that server; without it, a fresh SQLite file
(whose outbound slots and spacing are shared through lock files beside it).

The crates registry's policy (one request a second, wherever it is served from) alone makes
a run with 400 crates at least 400 s; ``--crates-interval 0`` measures the rest.
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing
import os
import resource
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

KINDS = {"pypi", "npm", "maven", "cargo", "gem"}
PACKAGE_SOURCES = ("pypi", "npm", "maven", "crates", "rubygems", "depsdev", "ecosystems")


def catalogue(count: int):
    from tests.fakes.registries import synthetic_catalogue

    # synthetic_catalogue spreads over seven ecosystems; keep the five benchmarked ones,
    # two packages to a repository (a monorepo's packages, or a package and its plugin).
    packages, repos = synthetic_catalogue(count * 7 // len(KINDS) + 7)
    chosen = [p for p in packages if p.purl_type in KINDS][:count]
    for index, package in enumerate(chosen):
        package.repo = chosen[index - index % 2].repo
    wanted = {p.repo for p in chosen}
    return chosen, [r for r in repos if r.key in wanted]


def serve(connection, count: int, latency: float) -> None:
    """Child process: run the fake registries and answer the parent's commands."""
    from tests.fakes import registries

    # Keep connections alive, as the real registries do (werkzeug defaults to HTTP/1.0,
    # one TCP connection and one server thread per request).
    registries._QuietHandler.protocol_version = "HTTP/1.1"
    start_fake_registries = registries.start_fake_registries
    packages, repos = catalogue(count)
    fake = start_fake_registries(
        packages=packages, repos=repos, latency=latency, separate_ports=True
    )
    connection.send((fake.base_urls, [(p.purl, p.version) for p in packages], len(repos)))
    while True:
        command = connection.recv()
        if command == "counts":
            connection.send(fake.counts())
        elif command == "statuses":
            connection.send(fake.app.statuses())
        elif command == "in_flight":
            connection.send(fake.app.most_in_flight())
        elif command == "reset":
            fake.app.reset_counts()
            connection.send(True)
        else:
            fake.stop()
            connection.send(True)
            return


def sbom_of(entries: list[tuple[str, str]]) -> bytes:
    """A CycloneDX document listing each package at the version the fakes publish."""
    components = [
        {"type": "library", "name": purl.rsplit("/", 1)[-1], "version": v, "purl": f"{purl}@{v}"}
        for purl, v in entries
    ]
    document = {"bomFormat": "CycloneDX", "specVersion": "1.6", "components": components}
    return json.dumps(document).encode()


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_app(url: str, base_urls: dict[str, str], tmp: str):
    from service.app import create_app

    return create_app(
        {
            "env": "development",
            "database_url": url,
            "instance_path": tmp,
            "registry_base_urls": base_urls,
            "outbound_allow_hosts": ["127.0.0.1"],
        }
    )


def stage_providers(app, base_urls: dict[str, str]) -> dict[str, dict]:
    """Each stage's providers (A: the package sources; B: and GitHub REST; C: GraphQL)."""
    from service.projects.providers import build_providers
    from service.projects.sources import app_providers, get_outbound

    providers = app_providers(app)
    with_token = build_providers(
        get_outbound(app),
        base_urls={"github": base_urls["github"]},
        enabled=["github"],
        github_token="bench-token",  # the fake GitHub takes any token
    )
    return {
        "A": {k: v for k, v in providers.items() if k in PACKAGE_SOURCES},
        "B": providers,
        "C": {**providers, **with_token},
    }


def shares(ids: list[int], count: int) -> list[list[int]]:
    """Each worker's packages: its own slice and the first half of the next worker's."""
    if count == 1:
        return [ids]
    size = len(ids) // count
    slices = [ids[i * size : (i + 1) * size if i < count - 1 else None] for i in range(count)]
    return [slices[i] + slices[(i + 1) % count][: size // 2] for i in range(count)]


def worker(connection, url: str, base_urls: dict[str, str], crates_interval: float) -> None:
    """A resolution worker process: resolves what it is sent, reports seconds, RSS and
    the CPU seconds it used (every thread)."""
    from service.core.outbound_limits import SourcePolicy
    from service.projects import services
    from service.projects.providers import SOURCE_POLICIES

    SOURCE_POLICIES["crates"] = SourcePolicy(concurrency=1, interval=crates_interval)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per request otherwise
    app = bench_app(url, base_urls, tempfile.mkdtemp(prefix="tributary-bench-worker-"))
    with app.app_context():
        database = app.extensions["tributary.db"]
        stages = stage_providers(app, base_urls)
        connection.send("ready")
        while (command := connection.recv()) is not None:
            stage, ids, now = command
            began, cpu = time.perf_counter(), time.process_time()
            services.run_resolution(database, ids, now=now, providers=stages[stage])
            used = time.process_time() - cpu
            connection.send((time.perf_counter() - began, peak_rss_mb(), used))


def fresh_database(admin: str | None, tmp: str, name: str) -> str:
    if admin is None:
        return f"sqlite:///{tmp}/{name}.db"
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return make_url(admin).set(database=name).render_as_string(hide_password=False)


def drop_database(admin: str | None, name: str) -> None:
    if admin is not None:
        from sqlalchemy import create_engine, text

        engine = create_engine(admin, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


def ingested(app, entries: list[tuple[str, str]]) -> list[int]:
    """The packages, as resolution sees them in production: from an upload."""
    from sqlmodel import col, select

    from service.audit.services import Actor
    from service.companies.services import create_company
    from service.sboms.models import SbomComponent
    from service.sboms.services import ingest

    database = app.extensions["tributary.db"]
    database.upgrade()
    with database.transaction() as session:
        actor = Actor.system("bench")
        company = create_company(session, actor, slug="bench", name="Bench")
        result = ingest(session, actor, company, "app", sbom_of(entries), source="cli")
        return list(
            session.exec(
                select(SbomComponent.package_id).where(
                    SbomComponent.sbom_id == result.sbom.id,
                    col(SbomComponent.package_id).is_not(None),
                )
            )
        )


STAGES = {
    "A": "A: package → repository",
    "B": "B: repository facts (GitHub REST, no token)",
    "C": "C: repository facts (GitHub GraphQL, token)",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packages", type=int, default=2000)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--stages", default="ABC", help="which stages to run (A, B, C)")
    parser.add_argument("--crates-interval", type=float, default=1.0)
    parser.add_argument("--workers", default="1", help="worker counts to run, e.g. 1,2,4")
    parser.add_argument("--postgres", help="a PostgreSQL server's admin URL (else SQLite)")
    parser.add_argument("--db-prefix", default="tributary_bench", help="databases' name prefix")
    args = parser.parse_args(argv)

    parent, child = multiprocessing.Pipe()
    server = multiprocessing.Process(target=serve, args=(child, args.packages, args.latency))
    server.start()
    base_urls, catalogue_entries, wanted_repos = parent.recv()

    def fake(command: str):
        parent.send(command)
        return parent.recv()

    from sqlmodel import col, delete

    from service.core.clock import utcnow
    from service.projects.models import MetadataCacheEntry

    spawn = multiprocessing.get_context("spawn")
    tmp = tempfile.mkdtemp(prefix="tributary-bench-")
    start = utcnow()
    runs = [
        ("first run", start),
        ("again within the TTL", start + timedelta(hours=1)),
        ("after the TTL (+8 days)", start + timedelta(days=8)),
    ]
    rows = []
    for count in [int(n) for n in args.workers.split(",")]:
        name = f"{args.db_prefix}_{os.getpid()}_{count}"
        url = fresh_database(args.postgres, tmp, name)
        app = bench_app(url, base_urls, tmp)
        with app.app_context():
            ids = ingested(app, catalogue_entries)
        database = app.extensions["tributary.db"]
        pipes, workers = [], []
        for _ in range(count):
            mine, theirs = spawn.Pipe()
            process = spawn.Process(
                target=worker, args=(theirs, url, base_urls, args.crates_interval)
            )
            process.start()
            pipes.append(mine)
            workers.append(process)
        assert all(pipe.recv() == "ready" for pipe in pipes)
        for stage in [s for s in "ABC" if s in args.stages]:
            if stage == "C":  # a cold start for the repositories, as for stage B
                with database.transaction() as session:
                    session.exec(
                        delete(MetadataCacheEntry).where(col(MetadataCacheEntry.source) == "github")
                    )
            for label, now in runs:
                fake("reset")
                began = time.perf_counter()
                for pipe, mine in zip(pipes, shares(ids, count), strict=True):
                    pipe.send((stage, mine, now))
                answers = [pipe.recv() for pipe in pipes]
                seconds = time.perf_counter() - began
                counts, statuses, in_flight = fake("counts"), fake("statuses"), fake("in_flight")
                if stage in "BC":
                    counts = {"github": counts.get("github", 0)}
                rss = max(r for _s, r, _c in answers)
                cpu = sum(c for _s, _r, c in answers)
                rows.append((count, stage, label, seconds, cpu, counts, statuses, in_flight, rss))
        for pipe, process in zip(pipes, workers, strict=True):
            pipe.send(None)
            process.join(timeout=30)
        database.engine.dispose()
        drop_database(args.postgres, name)
    fake("stop")
    server.join(timeout=10)

    settings = app.extensions["tributary.settings"]
    print(
        f"{len(ids)} packages, {wanted_repos} repositories, "
        f"{args.latency * 1000:.0f} ms latency per request, "
        f"per-host limit {settings.outbound_per_host_limit}, "
        f"{settings.resolution_workers} threads a worker, "
        f"{'PostgreSQL' if args.postgres else 'SQLite'}.\n"
    )
    print(
        "| workers | stage | run | wall time | workers' CPU | requests (per source) "
        "| most per package and source | most in flight per host | answers by status "
        "| peak RSS |"
    )
    print("|---:|---|---|---:|---:|---|---:|---|---|---:|")
    for count, stage, label, seconds, cpu, counts, statuses, in_flight, rss in rows:
        total = sum(counts.values())
        detail = ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "none"
        # Every benchmarked package is known to exactly one registry; ecosyste.ms answers
        # for all of them.
        per_source = max(
            [v / (len(ids) / len(KINDS)) for k, v in counts.items() if k != "ecosystems"]
            + [counts.get("ecosystems", 0) / len(ids)]
        )
        if stage in "BC":
            per_source = counts.get("github", 0) / wanted_repos
            in_flight = {"github": in_flight.get("github", 0)}
        others = [n for k, n in in_flight.items() if k != "crates"]
        most = f"{max(others, default=0)}"
        if "crates" in in_flight:
            most += f" (crates {in_flight['crates']})"
        answers = ", ".join(f"{code}: {n}" for code, n in sorted(statuses.items())) or "-"
        print(
            f"| {count} | {STAGES[stage]} | {label} | {seconds:.1f} s | {cpu:.1f} s "
            f"| {total} ({detail}) | "
            f"{per_source:.2f} | {most} | {answers} | {rss:.0f} MB |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
