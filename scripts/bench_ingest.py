"""Benchmark SBOM reading and storing against a bare parse and the official libraries.

For every file of the shared corpus (../shared/sboms) and two generated documents (a
CycloneDX JSON with 100,000 components and a full dependency graph, an SPDX 2.3 JSON with
50,000 packages and DEPENDS_ON relationships) it times:

- bare: `json.loads`, or defusedxml's ElementTree for XML, or a line split for tag-value;
- parse: Tributary's `parse_sbom` (parse + normalize + graph depth);
- ingest SQLite: Tributary's full `ingest` (parse, packages, components, diff, audit) and
  its commit, into a fresh SQLite file migrated with `Database.upgrade()`;
- ingest PostgreSQL: the same into a fresh database on the local server (created for the
  run, dropped afterwards; skipped with a note when the server is unreachable);
- official: cyclonedx-python-lib (`Bom.from_json` / `Bom.from_xml`) for CycloneDX and
  spdx-tools (`parse_file`) for SPDX; a file it rejects is reported as "rejected: reason".
  Malformed corpus files are not given to the official libraries.

Every measurement runs in its own Python subprocess, so its peak memory is honest: the
reported figure is that process's peak resident set size (VmHWM), the interpreter and
imports included (about the "baseline" printed under the table). Times exclude
interpreter start-up, imports and reading the file; small inputs are repeated and the
fastest run is kept. Ingest runs once, into its fresh database, after an untimed one-
component warm-up ingest (first-use costs a long-running server pays once).

    .venv/bin/python scripts/bench_ingest.py            # all files, markdown on stdout
    .venv/bin/python scripts/bench_ingest.py --only big # just the generated documents
"""

from __future__ import annotations

import argparse
import csv
import datetime
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
CORPUS = REPO_ROOT.parent / "shared" / "sboms"
POSTGRES_URL = os.environ.get(
    "TRIBUTARY_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
OFFICIAL_TIMEOUT = 900  # seconds; a slower official parse is reported as a lower bound
MEMORY_CAP = 8 * 1024**3  # address-space cap for official libraries (they can balloon)
MIN_TOTAL = 0.5  # repeat fast measurements until this many seconds have passed ...
MAX_REPEATS = 1000  # ... or this many runs (timeit-style: tiny inputs warm up)


# The worker: one measurement in this process ---------------------------------------------


def _peak_mb() -> float:
    """Peak resident memory of this process, in MiB.

    VmHWM from /proc, because `ru_maxrss` survives exec on Linux: a child would report
    the driver's size at fork time, not its own.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _repeat(operation) -> tuple[float, Any]:
    best, result, total, runs = float("inf"), None, 0.0, 0
    while runs < MAX_REPEATS and (runs == 0 or total < MIN_TOTAL):
        start = time.perf_counter()
        result = operation()
        elapsed = time.perf_counter() - start
        best, total, runs = min(best, elapsed), total + elapsed, runs + 1
    return best, result


def _bare(data: bytes, kind: str):
    if kind == "xml":
        import defusedxml.ElementTree as ElementTree

        return lambda: ElementTree.fromstring(data)
    if kind == "tag-value":
        return lambda: [line.partition(":") for line in data.decode("utf-8").splitlines()]
    return lambda: json.loads(data)


def _official(data: bytes, path: str, family: str, kind: str):
    import warnings

    warnings.simplefilter("ignore")
    if family == "cyclonedx":
        from cyclonedx.model.bom import Bom

        if kind == "xml":
            import defusedxml.ElementTree as ElementTree

            return lambda: len(Bom.from_xml(ElementTree.fromstring(data)).components)
        return lambda: len(Bom.from_json(json.loads(data)).components)
    from spdx_tools.spdx.parser.parse_anything import parse_file

    return lambda: len(parse_file(path).packages)


def worker(measure: str, path: str, kind: str, family: str, database_url: str | None) -> None:
    sys.path.insert(0, str(REPO_ROOT))
    if measure == "official":
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))
        operation = _official(Path(path).read_bytes(), path, family, kind)
    elif measure == "bare":
        operation = _bare(Path(path).read_bytes(), kind)
    elif measure == "parse":
        from service.sboms.parsing import parse_sbom

        data = Path(path).read_bytes()
        operation = lambda: len(parse_sbom(data).components)  # noqa: E731
    else:
        return _ingest_worker(path, database_url)
    baseline = _peak_mb()
    try:
        seconds, count = _repeat(operation)
    except Exception as exc:  # the official libraries raise anything; report it as such
        reason = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        _emit({"error": reason[:160], "peak_mb": _peak_mb(), "baseline_mb": baseline})
        return None
    if not isinstance(count, int):
        count = None  # the bare parses return documents, not counts
    _emit({"seconds": seconds, "count": count, "peak_mb": _peak_mb(), "baseline_mb": baseline})
    return None


def _ingest_worker(path: str, database_url: str | None) -> None:
    from service.audit.services import Actor
    from service.companies.models import Company
    from service.db import Database
    from service.domains import import_models
    from service.sboms.parsing import SbomError
    from service.sboms.services import ingest

    import_models()
    temp = None
    if database_url is None:
        temp = tempfile.TemporaryDirectory()
        database_url = f"sqlite:///{temp.name}/bench.db"
        Database(database_url).upgrade()
    database = Database(database_url)
    with database.transaction() as session:
        company = Company(slug=f"bench-{os.getpid()}-{time.time_ns() % 10**9}", name="Bench")
        session.add(company)
        session.flush()
        company_id = company.id
    # Warm up (first-statement compilation, lazy imports: ~0.15 s once per process, as a
    # long-running server pays once), untimed, with a one-component document.
    warm = b'{"bomFormat":"CycloneDX","specVersion":"1.5","components":[{"type":"library",'
    warm += b'"name":"warm-up","version":"1","purl":"pkg:generic/warm-up@1"}]}'
    with database.transaction() as session:
        company = session.get(Company, company_id)
        ingest(session, Actor.system("bench"), company, "warm-up", warm, source="cli")
    data = Path(path).read_bytes()
    baseline = _peak_mb()
    start = time.perf_counter()
    try:
        with database.transaction() as session:
            company = session.get(Company, company_id)
            result = ingest(session, Actor.system("bench"), company, "bench", data, source="cli")
            count = result.sbom.component_count
    except SbomError as exc:
        _emit({"error": f"rejected: {exc.code}", "peak_mb": _peak_mb(), "baseline_mb": baseline})
        return
    seconds = time.perf_counter() - start
    _emit({"seconds": seconds, "count": count, "peak_mb": _peak_mb(), "baseline_mb": baseline})
    database.engine.dispose()
    if temp is not None:
        temp.cleanup()


def _emit(result: dict[str, Any]) -> None:
    print("BENCH " + json.dumps(result))


# The driver: files, subprocesses, table --------------------------------------------------


def _run(measure: str, path: Path, kind: str, family: str, database_url: str | None = None):
    command = [sys.executable, __file__, "--worker", measure, str(path), kind, family]
    if database_url:
        command.append(database_url)
    timeout = OFFICIAL_TIMEOUT if measure == "official" else 600
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, check=False, cwd=REPO_ROOT
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timeout > {timeout} s", "timeout": timeout}
    for line in done.stdout.splitlines():
        if line.startswith("BENCH "):
            return json.loads(line[6:])
    tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
    return {"error": f"crashed (exit {done.returncode}): {tail[:120]}"}


def _kind_of(path: Path) -> str:
    head = path.read_bytes()[:512].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<"):
        return "xml"
    if head.startswith((b"{", b"[")):
        return "json"
    return "tag-value"


def _family(row: dict[str, str] | None, path: Path) -> str:
    text = (row or {}).get("format", "") or path.name
    return "cyclonedx" if "cyclonedx" in text.lower() or "cdx" in text.lower() else "spdx"


def _files(only: str | None, workdir: Path) -> list[tuple[str, Path, str, bool]]:
    """(label, path, family, malformed) for every input."""
    rows = {}
    if (CORPUS / "SOURCES.tsv").is_file():
        with (CORPUS / "SOURCES.tsv").open(newline="", encoding="utf-8") as handle:
            rows = {row["file"]: row for row in csv.DictReader(handle, delimiter="\t")}
    inputs = []
    if only != "big":
        for relative in sorted(rows):
            path = CORPUS / relative
            if path.is_file():
                malformed = relative.startswith("malformed/")
                inputs.append((relative, path, _family(rows[relative], path), malformed))
    if only != "corpus":
        sys.path.insert(0, str(REPO_ROOT / "scripts"))
        from generate_sboms import generate_cyclonedx, generate_spdx

        for label, family, document in (
            ("generated: CycloneDX 1.6, 100,000 components", "cyclonedx", generate_cyclonedx),
            ("generated: SPDX 2.3, 50,000 packages", "spdx", generate_spdx),
        ):
            size = 100_000 if family == "cyclonedx" else 50_000
            path = workdir / (f"generated-{size}.cdx.json" if family == "cyclonedx" else
                              f"generated-{size}.spdx.json")  # fmt: skip
            path.write_text(json.dumps(document(size)), encoding="utf-8")
            inputs.append((label, path, family, False))
    return inputs


def _postgres_database() -> tuple[str | None, str | None, Any]:
    """(url of a fresh migrated database, note, cleanup) or (None, why not, None)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    sys.path.insert(0, str(REPO_ROOT))
    try:
        admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            version = connection.execute(text("SHOW server_version")).scalar()
    except Exception as exc:  # any driver error: no server to measure on
        return None, f"PostgreSQL unreachable ({type(exc).__name__}); its column is skipped", None
    name = f"tributary_bench_{os.getpid()}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    from service.db import Database
    from service.domains import import_models

    import_models()
    database = Database(url)
    database.upgrade()
    database.engine.dispose()

    def cleanup() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url, f"PostgreSQL {version}, one fresh database for the run", cleanup


def _seconds(result: dict[str, Any] | None) -> str:
    if result is None:
        return "-"
    if "error" in result:
        return result["error"] if result["error"].startswith(("rejected", "timeout")) else (
            f"rejected: {result['error']}"
        )  # fmt: skip
    value = result["seconds"]
    return f"{value:.4f}" if value < 1 else f"{value:.2f}"


def _ratio(numerator: dict | None, denominator: dict | None, lower_bound: bool = False) -> str:
    if not numerator or not denominator or "seconds" not in denominator:
        return "-"
    if "seconds" in numerator:
        return f"{numerator['seconds'] / denominator['seconds']:.1f}x"
    if lower_bound and "timeout" in numerator:
        return f"> {numerator['timeout'] / denominator['seconds']:.0f}x"
    return "-"


def _mb(result: dict[str, Any] | None) -> str:
    return f"{result['peak_mb']:.0f}" if result and "peak_mb" in result else "-"


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kb / 1024**2:.0f} GB RAM"
    except (OSError, ValueError, IndexError):
        pass
    import sqlite3

    return (
        f"{os.cpu_count()} cores ({cpu}){memory}, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["corpus", "big"])
    parser.add_argument("--no-official", action="store_true", help="skip the official libraries")
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        measure, path, kind, family, *rest = args.worker
        worker(measure, path, kind, family, rest[0] if rest else None)
        return

    load_start = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as workdir:
        inputs = _files(args.only, Path(workdir))
        pg_url, pg_note, pg_cleanup = _postgres_database()
        rows = []
        try:
            for label, path, family, malformed in inputs:
                kind = _kind_of(path)
                print(f"… {label}", file=sys.stderr, flush=True)
                result = {
                    "bare": _run("bare", path, kind, family),
                    "parse": _run("parse", path, kind, family),
                    "sqlite": _run("ingest", path, kind, family),
                    "pg": _run("ingest", path, kind, family, pg_url) if pg_url else None,
                    "official": None,
                }
                if not malformed and not args.no_official:
                    result["official"] = _run("official", path, kind, family)
                result["size"] = path.stat().st_size
                rows.append((label, path, family, malformed, result))
        finally:
            if pg_cleanup:
                pg_cleanup()
    load = (
        f"load average (1 min) {load_start:.1f} at the start, {os.getloadavg()[0]:.1f} at the end"
    )
    print(render(rows, pg_note, load))


def render(rows, pg_note: str | None, load: str = "") -> str:
    lines = [
        f"Measured {datetime.date.today().isoformat()} on {machine()}; {load}.",
        f"{pg_note}." if pg_note else "",
        "",
        "| file | KB | components | bare s | parse s | parse/bare | ingest SQLite s "
        "| ingest PostgreSQL s | official s | official/parse | peak MB parse / SQLite / official |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    baselines = []
    for label, _path, family, malformed, r in rows:
        parse = r["parse"]
        count = parse.get("count", "-") if parse and "seconds" in parse else "-"
        official = r["official"]
        library = "cyclonedx-python-lib" if family == "cyclonedx" else "spdx-tools"
        official_text = (
            "not run (malformed)"
            if malformed
            else (f"{_seconds(official)} ({library})" if official else "-")
        )
        lines.append(
            f"| {label} | {r['size'] / 1024:,.0f} | {count} | {_seconds(r['bare'])} "
            f"| {_seconds(parse)} | {_ratio(parse, r['bare'])} | {_seconds(r['sqlite'])} "
            f"| {_seconds(r['pg']) if r['pg'] else 'skipped'} | {official_text} "
            f"| {_ratio(official, parse, lower_bound=True)} "
            f"| {_mb(parse)} / {_mb(r['sqlite'])} / {_mb(official)} |"
        )
        for key in ("parse", "sqlite"):
            if r[key] and "baseline_mb" in r[key]:
                baselines.append((key, r[key]["baseline_mb"]))
    parse_base = [mb for key, mb in baselines if key == "parse"]
    ingest_base = [mb for key, mb in baselines if key == "sqlite"]
    if parse_base and ingest_base:
        lines += [
            "",
            f"Peak MB is the measuring process's peak RSS; the process alone (interpreter "
            f"and imports) takes about {min(parse_base):.0f} MB for parse and "
            f"{min(ingest_base):.0f} MB for ingest.",
        ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
