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

The fake registries run in a child process so their request handling does not share this
process's interpreter.  Peak memory is this process's peak RSS.

    .venv/bin/python scripts/bench_resolve.py [--packages 2000] [--latency 0.05]
        [--crates-interval 1.0]

The crates registry's policy (one request a second, wherever it is served from) alone makes
a run with 400 crates at least 400 s; ``--crates-interval 0`` measures the rest.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packages", type=int, default=2000)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--stages", default="ABC", help="which stages to run (A, B, C)")
    parser.add_argument("--crates-interval", type=float, default=1.0)
    args = parser.parse_args(argv)

    parent, child = multiprocessing.Pipe()
    server = multiprocessing.Process(target=serve, args=(child, args.packages, args.latency))
    server.start()
    base_urls, catalogue_entries, wanted_repos = parent.recv()

    def fake(command: str):
        parent.send(command)
        return parent.recv()

    from sqlmodel import col, delete, func, select

    from service.app import create_app
    from service.core.outbound_limits import SourcePolicy
    from service.projects.providers import SOURCE_POLICIES, build_providers

    SOURCE_POLICIES["crates"] = SourcePolicy(concurrency=1, interval=args.crates_interval)
    from service.audit.services import Actor
    from service.companies.services import create_company
    from service.core.clock import utcnow
    from service.projects import services
    from service.projects.models import MetadataCacheEntry, PackageResolution
    from service.projects.sources import app_providers, get_outbound
    from service.sboms.models import SbomComponent
    from service.sboms.services import ingest

    tmp = tempfile.mkdtemp(prefix="tributary-bench-")
    app = create_app(
        {
            "env": "development",
            "database_url": f"sqlite:///{tmp}/bench.db",
            "instance_path": tmp,
            "registry_base_urls": base_urls,
            "outbound_allow_hosts": ["127.0.0.1"],
        }
    )
    rows = []
    with app.app_context():
        database = app.extensions["tributary.db"]
        database.upgrade()
        # The packages arrive as resolution sees them in production: from an upload.
        with database.transaction() as session:
            actor = Actor.system("bench")
            company = create_company(session, actor, slug="bench", name="Bench")
            result = ingest(
                session, actor, company, "app", sbom_of(catalogue_entries), source="cli"
            )
            ids = list(
                session.exec(
                    select(SbomComponent.package_id).where(
                        SbomComponent.sbom_id == result.sbom.id,
                        col(SbomComponent.package_id).is_not(None),
                    )
                )
            )
        providers = app_providers(app)
        package_providers = {k: v for k, v in providers.items() if k in PACKAGE_SOURCES}
        start = utcnow()
        runs = [
            ("first run", start),
            ("again within the TTL", start + timedelta(hours=1)),
            ("after the TTL (+8 days)", start + timedelta(days=8)),
        ]
        with_token = build_providers(
            get_outbound(app),
            base_urls={"github": base_urls["github"]},
            enabled=["github"],
            github_token="bench-token",  # the fake GitHub takes any token
        )
        stages = [
            ("A: package → repository", package_providers),
            ("B: repository facts (GitHub REST, no token)", providers),
            ("C: repository facts (GitHub GraphQL, token)", {**providers, **with_token}),
        ]
        for stage, chosen in [s for s in stages if s[0][0] in args.stages]:
            if stage[0] == "C":  # a cold start for the repositories, as for stage B
                with database.transaction() as session:
                    session.exec(
                        delete(MetadataCacheEntry).where(col(MetadataCacheEntry.source) == "github")
                    )
            for label, now in runs:
                fake("reset")
                began = time.perf_counter()
                services.run_resolution(database, ids, now=now, providers=chosen)
                seconds = time.perf_counter() - began
                counts = fake("counts")
                if stage[0] in "BC":
                    counts = {"github": counts.get("github", 0)}
                statuses = fake("statuses")
                rows.append((stage, label, seconds, counts, statuses, peak_rss_mb()))
        with database.transaction() as session:
            resolved = session.exec(
                select(func.count()).where(PackageResolution.status == "resolved")
            ).one()
    fake("stop")
    server.join(timeout=10)

    print(
        f"{len(ids)} packages, {wanted_repos} repositories, "
        f"{args.latency * 1000:.0f} ms latency per request, "
    )
    print(
        f"per-host limit {app.extensions['tributary.settings'].outbound_per_host_limit}, "
        f"{app.extensions['tributary.settings'].resolution_workers} workers; "
        f"{resolved} resolved to a project.\n"
    )
    print(
        "| stage | run | wall time | requests (per source) | most per package and source "
        "| answers by status | peak RSS |"
    )
    print("|---|---|---:|---|---:|---|---:|")
    for stage, label, seconds, counts, statuses, rss in rows:
        total = sum(counts.values())
        detail = ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "none"
        # Every benchmarked package is known to exactly one registry; ecosyste.ms answers
        # for all of them.
        per_source = max(
            [v / (len(ids) / len(KINDS)) for k, v in counts.items() if k != "ecosystems"]
            + [counts.get("ecosystems", 0) / len(ids)]
        )
        if stage[0] in "BC":
            per_source = counts.get("github", 0) / wanted_repos
        answers = ", ".join(f"{code}: {n}" for code, n in sorted(statuses.items())) or "-"
        print(
            f"| {stage} | {label} | {seconds:.1f} s | {total} ({detail}) | "
            f"{per_source:.2f} | {answers} | {rss:.0f} MB |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
