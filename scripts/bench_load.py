"""Load benchmark: the production-like stack (scripts/serve.sh) on PostgreSQL, driven from a
separate process on loopback by N concurrent clients for T seconds.

    python scripts/bench_load.py [--short] [--clients 50] [--seconds 60] [--web-workers 4]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/tributary_bench_load]

Seeds the database (dropped and created again; full size: 200 companies, 2,000 products
with an SBOM each, 100,000 distinct packages; --short: 10, 20, 1,000), starts serve.sh
(no task workers: uploads queue their resolution, nothing leaves the machine), then drives
a mix of the dashboard, dependency table, risk page, proposals, projects page and API
uploads (half new documents, half repeats of one already sent) and reports throughput,
p50/p95/p99 by route group, errors, and the web processes' CPU-seconds per request (from
/proc). Afterwards every acknowledged upload must be stored exactly once.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

FULL = {"companies": 200, "products": 2000, "packages": 100_000}
SHORT = {"companies": 10, "products": 20, "packages": 1_000}
COMPONENTS_PER_SBOM = 50
MIX = (  # group, weight
    ("dashboard", 3),
    ("dependencies", 3),
    ("risk", 2),
    ("proposals", 2),
    ("projects", 2),
    ("upload_new", 1),
    ("upload_repeat", 1),
)


def cyclonedx(name: str, packages: list[tuple[str, str]]) -> bytes:
    components = [
        {
            "type": "library",
            "bom-ref": f"c{i}",
            "name": purl.rsplit("/", 1)[-1],
            "version": v,
            "purl": f"{purl}@{v}",
        }
        for i, (purl, v) in enumerate(packages)
    ]
    return json.dumps(
        {
            "bomFormat": "CycloneDX",
            "specVersion": "1.5",
            "version": 1,
            "metadata": {"component": {"type": "application", "name": name, "bom-ref": "root"}},
            "components": components,
            "dependencies": [{"ref": "root", "dependsOn": [c["bom-ref"] for c in components]}],
        }
    ).encode()


def package_pool(count: int) -> list[tuple[str, str]]:
    ecosystems = ("npm", "pypi", "maven/org.example", "cargo", "golang/example.com")
    return [(f"pkg:{ecosystems[i % 5]}/pkg{i}", f"1.{i % 7}.0") for i in range(count)]


def recreate_database(url: str) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()


def seed(url: str, size: dict[str, int]) -> list[dict]:
    """Companies, one owner and one API token each, products with one SBOM each."""
    from service.accounts.models import User
    from service.audit.services import Actor
    from service.companies.models import Company, Membership, Role
    from service.companies.services import create_token
    from service.db import Database
    from service.sboms.services import ingest

    database = Database(url)
    database.upgrade()
    pool = package_pool(size["packages"])
    per_company = size["products"] // size["companies"]
    tenants, product_number = [], 0
    for number in range(size["companies"]):
        with database.transaction() as session:
            user = User(github_id=10_000 + number, login=f"owner{number}")
            company = Company(
                slug=f"load{number}",
                name=f"Load {number}",
                currency="USD",
                monthly_budget_minor=500_000,
            )
            session.add_all([user, company])
            session.flush()
            session.add(Membership(company_id=company.id, user_id=user.id, role=Role.owner))
            token = create_token(
                session, Actor.system("bench"), company, name="load", scopes=["sbom:write"]
            )
            products = []
            for _ in range(per_company):
                start = (product_number * COMPONENTS_PER_SBOM) % len(pool)
                packages = [pool[(start + k) % len(pool)] for k in range(COMPONENTS_PER_SBOM)]
                name = f"product{product_number}"
                ingest(
                    session,
                    Actor.system("bench"),
                    company,
                    name,
                    cyclonedx(name, packages),
                    source="api",
                )
                products.append(name)
                product_number += 1
            tenants.append(
                {
                    "slug": company.slug,
                    "user_id": user.id,
                    "session_version": user.session_version,
                    "token": token.plaintext,
                    "products": products,
                }
            )
    database.engine.dispose()
    return tenants


def session_cookie(secret_key: str, tenant: dict) -> str:
    """A signed session cookie for the tenant's owner, as the app would set it."""
    from flask import Flask

    from service.accounts.auth import SEEN_KEY, USER_KEY, VERSION_KEY

    app = Flask("cookie")
    app.secret_key = secret_key
    serializer = app.session_interface.get_signing_serializer(app)
    return serializer.dumps(
        {
            USER_KEY: tenant["user_id"],
            VERSION_KEY: tenant["session_version"],
            SEEN_KEY: time.time() + 86_400,
        }
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def cpu_seconds(root_pid: int) -> float:
    """User+system CPU of `root_pid` and its descendants (the web: gunicorn and workers)."""
    tick = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry.name)] = int(fields[1])
        times[int(entry.name)] = (int(fields[11]) + int(fields[12])) / tick
    family, grew = {root_pid}, True
    while grew:
        more = {pid for pid, parent in parents.items() if parent in family} - family
        grew, family = bool(more), family | more
    return sum(times.get(pid, 0.0) for pid in family)


def gunicorn_master(serve_pid: int) -> int:
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                status = (entry / "stat").read_text()
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            parent = int(status.rsplit(")", 1)[1].split()[1])
            if parent == serve_pid and b"gunicorn" in cmdline:
                return int(entry.name)
    raise RuntimeError("no gunicorn under serve.sh")


# The driver: a separate process ------------------------------------------------------


def drive(plan_path: str) -> None:
    import httpx

    plan = json.loads(Path(plan_path).read_text())
    base, tenants, deadline = plan["base"], plan["tenants"], time.monotonic() + plan["seconds"]
    groups = [g for g, w in MIX for _ in range(w)]
    latencies: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, int] = defaultdict(int)
    acknowledged: list[dict] = []
    lock = threading.Lock()

    def client_loop(number: int) -> None:
        rng = random.Random(number)
        tenant = tenants[number % len(tenants)]
        cookies = {"tributary_session": tenant["cookie"]}
        sent: list[bytes] = []
        with httpx.Client(base_url=base, timeout=30, cookies=cookies) as http:
            count = 0
            while time.monotonic() < deadline:
                group = rng.choice(groups)
                slug = tenant["slug"]
                started = time.perf_counter()
                try:
                    if group.startswith("upload"):
                        product = rng.choice(tenant["products"])
                        if group == "upload_repeat" and sent:
                            body = rng.choice(sent)
                        else:
                            count += 1
                            name = f"load-{number}-{count}"
                            pkgs = [
                                (f"pkg:npm/load{number}x{count}x{k}", "1.0.0") for k in range(20)
                            ]
                            body = cyclonedx(name, pkgs)
                            sent.append(body)
                        answer = http.post(
                            f"/api/v1/companies/{slug}/products/{product}/sboms",
                            content=body,
                            headers={
                                "Authorization": f"Bearer {tenant['token']}",
                                "Content-Type": "application/json",
                            },
                        )
                        ok = answer.status_code in (200, 201)
                        if ok:
                            with lock:
                                acknowledged.append(
                                    {"slug": slug, "product": product, "id": answer.json()["id"]}
                                )
                    else:
                        path = {
                            "dashboard": f"/c/{slug}/",
                            "dependencies": f"/c/{slug}/dependencies",
                            "risk": f"/c/{slug}/risk",
                            "proposals": f"/c/{slug}/proposals",
                            "projects": f"/c/{slug}/projects",
                        }[group]
                        answer = http.get(path)
                        ok = answer.status_code == 200
                except httpx.HTTPError:
                    ok = False
                elapsed = time.perf_counter() - started
                with lock:
                    latencies[group].append(elapsed)
                    if not ok:
                        errors[group] += 1

    threads = [threading.Thread(target=client_loop, args=(n,)) for n in range(plan["clients"])]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    Path(plan["result"]).write_text(
        json.dumps({"latencies": latencies, "errors": errors, "acknowledged": acknowledged})
    )


def check_uploads(url: str, acknowledged: list[dict]) -> tuple[int, int, int]:
    """(acknowledged ids, missing, stored more than once by content) over the run."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as connection:
        ids = {row[0] for row in connection.execute(text("SELECT id FROM sboms"))}
        duplicates = connection.execute(
            text(
                "SELECT count(*) FROM (SELECT product_id, content_sha256 FROM sboms "
                "GROUP BY product_id, content_sha256 HAVING count(*) > 1) d"
            )
        ).scalar_one()
    engine.dispose()
    acked = {entry["id"] for entry in acknowledged}
    return len(acked), len(acked - ids), duplicates


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--short", action="store_true")
    parser.add_argument("--clients", type=int)
    parser.add_argument("--seconds", type=float)
    parser.add_argument("--web-workers", type=int, default=4)
    parser.add_argument(
        "--database-url",
        default="postgresql+psycopg://postgres@127.0.0.1:5432/tributary_bench_load",
    )
    parser.add_argument("--drive", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.drive:
        drive(args.drive)
        return 0
    size = SHORT if args.short else FULL
    clients = args.clients or (10 if args.short else 50)
    seconds = args.seconds or (15 if args.short else 60)

    started = time.monotonic()
    recreate_database(args.database_url)
    tenants = seed(args.database_url, size)
    seeded = time.monotonic() - started
    secret = secrets.token_urlsafe(48)
    for tenant in tenants:
        tenant["cookie"] = session_cookie(secret, tenant)

    port = free_port()
    work = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench-load-{os.getpid()}"
    work.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "DATABASE_URL": args.database_url,
        "TRIBUTARY_ENV": "production",
        "TRIBUTARY_SECRET_KEY": secret,
        "TRIBUTARY_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": str(args.web_workers),
        "TRIBUTARY_RATE_LIMITS_ENABLED": "false",
        "TRIBUTARY_INSTANCE_PATH": str(work),
        "TRIBUTARY_ACCESS_LOG": str(work / "access.log"),
        "TRIBUTARY_BIN": str(Path(sys.executable).parent),
    }
    with (work / "serve.log").open("w") as log:
        serve = subprocess.Popen(
            ["bash", str(REPO / "scripts/serve.sh"), "--workers", "0", "--no-scheduler"],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        import httpx

        base = f"http://127.0.0.1:{port}"
        ready_by = time.monotonic() + 120
        while True:
            try:
                if httpx.get(base + "/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > ready_by or serve.poll() is not None:
                raise RuntimeError("the stack did not come up; see " + str(work / "serve.log"))
            time.sleep(0.5)
        # Warm every web worker (first requests import and compile templates).
        with httpx.Client(base_url=base, cookies={"tributary_session": tenants[0]["cookie"]}) as c:
            for _ in range(args.web_workers * 6):
                for path in ("/", "dependencies", "risk", "proposals", "projects"):
                    c.get(f"/c/{tenants[0]['slug']}/{path}".replace("//", "/"))
        master = gunicorn_master(serve.pid)
        plan = work / "plan.json"
        plan.write_text(
            json.dumps(
                {
                    "base": base,
                    "tenants": tenants,
                    "seconds": seconds,
                    "clients": clients,
                    "result": str(work / "result.json"),
                }
            )
        )
        cpu_before = cpu_seconds(master)
        driven = time.monotonic()
        subprocess.run([sys.executable, __file__, "--drive", str(plan)], check=True)
        wall = time.monotonic() - driven
        cpu = cpu_seconds(master) - cpu_before
    finally:
        os.killpg(serve.pid, signal.SIGTERM)
        serve.wait(60)
    result = json.loads((work / "result.json").read_text())
    acked, missing, duplicated = check_uploads(args.database_url, result["acknowledged"])

    latencies, errors = result["latencies"], result["errors"]
    total = sum(len(v) for v in latencies.values())
    pages = sum(len(v) for g, v in latencies.items() if not g.startswith("upload"))
    print(
        f"seeded {size} in {seeded:.0f} s; {clients} clients for {wall:.0f} s, "
        f"{args.web_workers} web workers"
    )
    print(
        f"{total} requests, {total / wall:.1f}/s, errors {sum(errors.values())}, "
        f"web CPU {cpu:.1f} s = {1000 * cpu / max(total, 1):.1f} ms a request"
    )
    print("| route group | requests | p50 ms | p95 ms | p99 ms | errors |")
    print("|---|---|---|---|---|---|")
    for group, _ in MIX:
        values = latencies.get(group, [])
        if values:
            print(
                f"| {group} | {len(values)} | {1000 * statistics.median(values):.0f} | "
                f"{1000 * percentile(values, 0.95):.0f} | {1000 * percentile(values, 0.99):.0f}"
                f" | {errors.get(group, 0)} |"
            )
    print(
        f"pages {pages}; uploads acknowledged {acked}, missing {missing}, stored twice {duplicated}"
    )
    if missing or duplicated or errors:
        print(f"logs kept in {work}")
        return 1
    shutil.rmtree(work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
