"""Benchmark whole `tributary` processes against their references, in alternating pairs.

What a CI job or a person at a terminal waits for is the whole process: interpreter start,
imports, reading the file, the work, printing. Each figure here is one such process timed
from spawn to exit, run in alternating pairs with its reference in the same run (A B A B
...), because on a shared machine absolute times move by half between calls while the
ratio of neighbours holds. Every row reports the median wall time of each side, the
median of the per-pair ratios, the ratio of their CPU times (user + system, less moved by
other people's work) and each side's peak resident memory (GNU time's report). The
checkout's bytecode is written first, as an install writes it (see `compile_bytecode`).

Sections (``--only`` picks some):

- ``startup``: every command's start-up against ``python -c pass``: ``tributary --help``,
  the database-free commands on small inputs (`sbom inspect`, `allocate`, `risk score`,
  `propose --offline`) and one command that builds the app (`routes`);
- ``read``: ``tributary sbom inspect`` against ``python -c 'json.load(...)'`` (defusedxml
  for XML) and against the official library's whole process (cyclonedx-python-lib or
  spdx-tools, the ``bench`` extra) on generated CycloneDX documents of 20,000 and 100,000
  components and an SPDX document of 50,000 packages (`scripts/generate_sboms.py`) and on
  every file of the shared corpus (``../shared/sboms``);
- ``ingest``: ``tributary sbom ingest`` of the 100,000-component document into a fresh
  SQLite file and a fresh PostgreSQL database (created for each run, dropped after;
  ``--postgres URL``, skipped when unreachable) against ``sbom inspect`` of the same file;
- ``allocate``: ``tributary allocate`` at 5,000 and 50,000 projects (the inputs of
  `scripts/bench_allocation.py`) against ``tributary --help``.

    .venv/bin/python scripts/bench_process.py [--only startup read] [--inputs corpus] [--pairs 3]
        [--official-timeout 300] [--write]

``--write`` replaces the "Whole processes" section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import compileall
import contextlib
import datetime
import json
import os
import platform
import random
import resource
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = REPO_ROOT / "scripts"
CORPUS = REPO_ROOT.parent / "shared" / "sboms"
FIXTURES = REPO_ROOT / "tests" / "allocation" / "fixtures"
POSTGRES_URL = os.environ.get(
    "TRIBUTARY_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
PYTHON = sys.executable
# The installed command (as a person runs it); PYTHONPATH may point it at another checkout.
TRIBUTARY = [str(Path(PYTHON).parent / "tributary")]
MEMORY_CAP = 8 * 1024**3  # the official libraries balloon on big documents

sys.path.insert(0, str(SCRIPTS))


# One process ------------------------------------------------------------------------------


@dataclass
class Run:
    wall: float
    cpu: float
    peak_mb: float
    status: int
    stderr: str = ""


TIME = Path("/usr/bin/time")  # GNU time: the child's own peak RSS, measured from outside


def run_once(command: Sequence[str], env: dict[str, str] | None = None, timeout: float = 600):
    """Spawn `command`, wait for it; its wall time, CPU time and peak RSS (its own).

    The peak comes from GNU time's report, because a child forked from this (large)
    process starts its peak at this process's size; without /usr/bin/time it is left out.
    """
    with tempfile.NamedTemporaryFile() as errors, tempfile.NamedTemporaryFile() as report:
        wrapped = [str(TIME), "-q", "-f", "%M", "-o", report.name, *command]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        process = subprocess.Popen(
            wrapped if TIME.exists() else command,
            stdout=subprocess.DEVNULL,
            stderr=errors,
            cwd=REPO_ROOT,
            env=env,
            preexec_fn=_cap_memory,
            start_new_session=True,  # its own group: a timeout ends GNU time's child too
        )
        # A blocking wait, with the time limit on a timer: `Popen.wait(timeout)` polls with
        # sleeps of up to 50 ms, which rounded every wall time up to the next poll (a
        # 15 ms process measured 64 ms, a 0.42 s one 0.46 s).
        expired = threading.Event()

        def expire() -> None:
            expired.set()
            with contextlib.suppress(ProcessLookupError):  # it ended just then
                os.killpg(process.pid, signal.SIGKILL)

        watchdog = threading.Timer(timeout, expire)
        watchdog.start()
        try:
            process.wait()
        finally:
            watchdog.cancel()
        wall = time.perf_counter() - start
        if expired.is_set():
            return Run(timeout, 0.0, 0.0, -9, f"timeout > {timeout:.0f} s")
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        tail = Path(errors.name).read_text(errors="replace").strip().splitlines()
        peak = Path(report.name).read_text().split()
    # Children's CPU grows by this run's alone (set-up processes ran before `before`).
    cpu = usage.ru_utime + usage.ru_stime - before.ru_utime - before.ru_stime
    return Run(
        wall,
        cpu,
        int(peak[-1]) / 1024 if peak and peak[-1].isdigit() else 0.0,
        process.returncode,
        tail[-1][:160] if tail else "",
    )


def _cap_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


# Pairs ------------------------------------------------------------------------------------


@dataclass
class Side:
    label: str
    command: Sequence[str]
    # Run untimed before each timed run (a fresh database, say); returns the env to use.
    prepare: Callable[[], dict[str, str] | None] | None = None
    cleanup: Callable[[], None] | None = None
    runs: list[Run] = field(default_factory=list)

    def run(self, timeout: float) -> Run:
        try:
            env = self.prepare() if self.prepare else None
            result = run_once(self.command, env, timeout)
        except Exception as exc:  # a database that cannot be set up: reported in the row
            result = Run(0.0, 0.0, 0.0, -1, f"{type(exc).__name__}: {exc}"[:160])
        finally:
            if self.cleanup:
                self.cleanup()
        self.runs.append(result)
        return result

    @property
    def ok(self) -> list[Run]:
        return [r for r in self.runs if r.status == 0]

    def wall(self) -> float:
        return statistics.median(r.wall for r in self.ok)

    def cpu(self) -> float:
        return statistics.median(r.cpu for r in self.ok)

    def peak(self) -> float:
        return max(r.peak_mb for r in self.ok)

    def failure(self) -> str | None:
        bad = [r for r in self.runs if r.status != 0]
        return f"failed ({bad[0].status}): {bad[0].stderr}" if bad and not self.ok else None


@dataclass
class Pair:
    what: str
    subject: Side
    reference: Side
    # True: the ratio says how many times faster the subject is (reference / measured);
    # False: how many times the reference's time the subject takes (measured / reference).
    faster: bool = False

    def measure(self, pairs: int, timeout: float) -> None:
        print(f"… {self.what}: {self.subject.label} vs {self.reference.label}", file=sys.stderr)
        for index in range(pairs):
            # Alternate which side goes first, so neither always meets a warm page cache.
            sides = (
                (self.subject, self.reference) if index % 2 == 0 else (self.reference, self.subject)
            )
            for side in sides:
                side.run(timeout)
            if any(s.runs[-1].status != 0 for s in sides):
                break  # a failure (timeout, rejected file) is reported, not repeated

    def ratio(self) -> float | None:
        """Median over pairs of the wall-time ratio, oriented as `faster` says."""
        ratios = [
            r.wall / s.wall if self.faster else s.wall / r.wall
            for s, r in zip(self.subject.runs, self.reference.runs, strict=False)
            if s.status == 0 and r.status == 0
        ]
        return statistics.median(ratios) if ratios else None

    def cpu_ratio(self) -> float | None:
        if not self.subject.ok or not self.reference.ok:
            return None
        measured, reference = self.subject.cpu(), self.reference.cpu()
        if not measured or not reference:
            return None
        return reference / measured if self.faster else measured / reference


def compile_bytecode() -> None:
    """Write the bytecode of every checkout measured, as installing the package does.

    Where PYTHONDONTWRITEBYTECODE is set, a checkout without bytecode compiles every
    module it imports from source in every process (about 20 ms of `sbom inspect`),
    which an installed tributary and the reference libraries, compiled when pip
    installed them, never pay.
    """
    paths = os.environ.get("PYTHONPATH", "").split(os.pathsep)
    for root in (REPO_ROOT, *(Path(path) for path in paths if path)):
        if (root / "service").is_dir():
            compileall.compile_dir(root / "service", quiet=1)


# Inputs -----------------------------------------------------------------------------------


def python(code: str, *args: str) -> list[str]:
    return [PYTHON, "-W", "ignore", "-c", code, *args]


JSON_LOAD = "import json, sys; json.load(open(sys.argv[1], 'rb'))"
XML_LOAD = "import sys, defusedxml.ElementTree as E; E.parse(sys.argv[1])"
CYCLONEDX = (
    "import json, sys; from cyclonedx.model.bom import Bom; "
    "Bom.from_json(json.load(open(sys.argv[1], 'rb')))"
)
CYCLONEDX_XML = (
    "import sys, defusedxml.ElementTree as E; from cyclonedx.model.bom import Bom; "
    "Bom.from_xml(E.parse(sys.argv[1]).getroot())"
)
SPDX = "import sys; from spdx_tools.spdx.parser.parse_anything import parse_file; parse_file(sys.argv[1])"  # noqa: E501


def generated(workdir: Path) -> list[tuple[str, Path, str]]:
    from generate_sboms import generate_cyclonedx, generate_spdx

    made = []
    for label, family, count, make in (
        ("generated CycloneDX, 20,000 components", "cyclonedx", 20_000, generate_cyclonedx),
        ("generated CycloneDX, 100,000 components", "cyclonedx", 100_000, generate_cyclonedx),
        ("generated SPDX 2.3, 50,000 packages", "spdx", 50_000, generate_spdx),
    ):
        path = workdir / f"generated-{count}.{'cdx' if family == 'cyclonedx' else 'spdx'}.json"
        path.write_text(json.dumps(make(count)), encoding="utf-8")
        made.append((label, path, family))
    return made


def corpus() -> list[tuple[str, Path, str]]:
    found = []
    for path in sorted(CORPUS.rglob("*")):
        relative = path.relative_to(CORPUS).as_posix()
        if path.is_file() and "/" in relative and not relative.startswith("malformed/"):
            name = relative.lower()
            family = "cyclonedx" if "cdx" in name or "cyclonedx" in name else "spdx"
            found.append((relative, path, family))
    return found


def _kind(path: Path) -> str:
    head = path.read_bytes()[:256].lstrip(b"\xef\xbb\xbf \t\r\n")
    return "xml" if head.startswith(b"<") else "json" if head.startswith(b"{") else "tag-value"


def allocation_input(projects: int, path: Path) -> Path:
    """The allocation benchmark's synthetic company as an `allocate` input file."""
    from bench_allocation import allocation_document, build_candidates, make_inventory

    inventory = make_inventory(50, projects * 4, projects, random.Random(7))
    candidates = build_candidates(inventory, projects, random.Random(7))
    path.write_text(json.dumps(allocation_document(candidates)), encoding="utf-8")
    return path


# Sections ---------------------------------------------------------------------------------


def startup_pairs(workdir: Path) -> list[Pair]:
    small = CORPUS / "cyclonedx-json" / "laravel-7.12.0.cdx-1.2.json"
    signals = workdir / "signals.json"
    signals.write_text(json.dumps({"signals": {"publishers": 2, "contributor_count": 40}}))
    allocation = workdir / "allocate-3.json"
    allocation.write_text(
        json.dumps(
            {
                "budget": {"amount": "100.00", "currency": "USD"},
                "projects": [
                    {"key": f"github.com/o/r{i}", "claimed": True, "products": [{"name": "p"}]}
                    for i in range(3)
                ],
            }
        )
    )
    sqlite_env = {**os.environ, "DATABASE_URL": f"sqlite:///{workdir}/routes.db"}
    commands = [
        ("tributary --help", [*TRIBUTARY, "--help"], None),
        (f"tributary sbom inspect {small.name}", [*TRIBUTARY, "sbom", "inspect", str(small)], None),
        ("tributary allocate (3 projects)", [*TRIBUTARY, "allocate", "--input", str(allocation)],
         None),
        ("tributary risk score", [*TRIBUTARY, "risk", "score", "--input", str(signals)], None),
        (
            "tributary propose --offline (2 SBOMs)",
            [*TRIBUTARY, "propose", "--budget", "100.00",
             "--snapshot", str(FIXTURES / "propose-snapshot.jsonl"),
             "--sbom", str(FIXTURES / "web-shop.cdx.json"),
             "--sbom", str(FIXTURES / "api-service.spdx.json")],
            None,
        ),
        ("tributary routes (builds the app)", [*TRIBUTARY, "routes"], lambda: sqlite_env),
    ]  # fmt: skip
    return [
        Pair("start-up", Side(label, command, prepare), Side("python -c pass", python("pass")))
        for label, command, prepare in commands
    ]


def read_pairs(workdir: Path, which: Sequence[str], official: bool) -> list[Pair]:
    inputs = (generated(workdir) if "generated" in which else []) + (
        corpus() if "corpus" in which else []
    )
    pairs = []
    for label, path, family in inputs:
        kind = _kind(path)
        inspect = [*TRIBUTARY, "sbom", "inspect", str(path)]
        if kind != "tag-value":
            bare = python(XML_LOAD if kind == "xml" else JSON_LOAD, str(path))
            name = "ElementTree.parse" if kind == "xml" else "json.load"
            pairs.append(Pair(label, Side("sbom inspect", inspect), Side(name, bare)))
        if official:
            if family == "cyclonedx" and kind == "tag-value":
                continue
            code = SPDX if family == "spdx" else CYCLONEDX_XML if kind == "xml" else CYCLONEDX
            library = "spdx-tools" if family == "spdx" else "cyclonedx-python-lib"
            official_side = Side(library, python(code, str(path)))
            pairs.append(Pair(label, Side("sbom inspect", inspect), official_side, faster=True))
    return pairs


def ingest_pairs(workdir: Path, postgres: str | None) -> list[Pair]:
    from generate_sboms import generate_cyclonedx

    path = workdir / "ingest-100000.cdx.json"
    if not path.exists():
        path.write_text(json.dumps(generate_cyclonedx(100_000)), encoding="utf-8")
    ingest = [*TRIBUTARY, "sbom", "ingest", str(path), "--company", "bench", "--product", "app"]
    inspect = Side("sbom inspect", [*TRIBUTARY, "sbom", "inspect", str(path)])
    pairs = [Pair("100,000 components", Side("ingest, SQLite", ingest, _fresh_sqlite(workdir)),
                  inspect)]  # fmt: skip
    if postgres:
        prepare, cleanup = _fresh_postgres(postgres)
        side = Side("ingest, PostgreSQL", ingest, prepare, cleanup)
        pairs.append(Pair("100,000 components", side, Side(inspect.label, inspect.command)))
    return pairs


def _migrated_env(url: str) -> dict[str, str]:
    env = {**os.environ, "DATABASE_URL": url}
    for command in (["db", "upgrade"], ["company", "create", "bench", "--name", "Bench"]):
        done = subprocess.run([*TRIBUTARY, *command], env=env, cwd=REPO_ROOT,
                              capture_output=True, text=True, check=False)  # fmt: skip
        if done.returncode:
            raise RuntimeError(f"{' '.join(command)}: {done.stderr.strip()[-300:]}")
    return env


def _fresh_sqlite(workdir: Path) -> Callable[[], dict[str, str]]:
    def prepare() -> dict[str, str]:
        path = workdir / "ingest.db"
        path.unlink(missing_ok=True)
        return _migrated_env(f"sqlite:///{path}")

    return prepare


def _fresh_postgres(url: str) -> tuple[Callable[[], dict[str, str]], Callable[[], None]]:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    name = f"tributary_bench_{os.getpid()}"

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def prepare() -> dict[str, str]:
        drop()
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        return _migrated_env(make_url(url).set(database=name).render_as_string(False))

    return prepare, drop


def postgres_reachable(url: str) -> str | None:
    """The server's version, or None when there is no server to measure on."""
    try:
        from sqlalchemy import create_engine, text

        engine = create_engine(url)
        with engine.connect() as connection:
            version = connection.execute(text("SHOW server_version")).scalar()
        engine.dispose()
        return str(version)
    except Exception:  # any driver error: no server
        return None


def allocate_pairs(workdir: Path) -> list[Pair]:
    pairs = []
    for projects in (5_000, 50_000):
        path = allocation_input(projects, workdir / f"allocate-{projects}.json")
        command = [*TRIBUTARY, "allocate", "--input", str(path), "--json"]
        pairs.append(
            Pair(
                f"{projects:,} projects",
                Side("allocate", command),
                Side("tributary --help", [*TRIBUTARY, "--help"]),
            )
        )
    return pairs


# Report -----------------------------------------------------------------------------------


def _s(side: Side) -> str:
    failure = side.failure()
    if failure:
        return failure
    value = side.wall()
    return f"{value:.3f}" if value < 10 else f"{value:.1f}"


def _x(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.2f}x" if value < 10 else f"{value:.1f}x" if value < 100 else f"{value:.0f}x"


def table(pairs: list[Pair], note: str) -> list[str]:
    lines = [
        note,
        "",
        "| input | measured | s | reference | s | ratio (wall, CPU) "
        "| peak MB (measured / reference) |",
        "|---|---|---:|---|---:|---:|---:|",
    ]
    for pair in pairs:
        subject, reference = pair.subject, pair.reference
        peaks = " / ".join(f"{s.peak():.0f}" if s.ok else "-" for s in (subject, reference))
        lines.append(
            f"| {pair.what} | {subject.label} | {_s(subject)} | {reference.label} "
            f"| {_s(reference)} | {_x(pair.ratio())}, {_x(pair.cpu_ratio())} | {peaks} |"
        )
    return lines


def startup_table(pairs: list[Pair]) -> list[str]:
    lines = [
        "| command | s | s over `python -c pass` | CPU s | peak MB |",
        "|---|---:|---:|---:|---:|",
    ]
    for pair in pairs:
        subject, reference = pair.subject, pair.reference
        if subject.failure() or reference.failure():
            lines.append(f"| {subject.label} | {subject.failure() or reference.failure()} |||")
            continue
        over = statistics.median(
            s.wall - r.wall for s, r in zip(subject.runs, reference.runs, strict=False)
        )
        lines.append(
            f"| {subject.label} | {subject.wall():.3f} | {over:+.3f} | {subject.cpu():.3f} "
            f"| {subject.peak():.0f} |"
        )
    reference = pairs[0].reference
    lines.append(
        f"| `python -c pass` (the reference) | {reference.wall():.3f} | - "
        f"| {reference.cpu():.3f} | {reference.peak():.0f} |"
    )
    return lines


def machine() -> str:
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return (
        f"{os.cpu_count()} cores ({cpu}), {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sections = ("startup", "read", "ingest", "allocate")
    parser.add_argument("--only", nargs="+", choices=sections, default=list(sections))
    parser.add_argument("--pairs", type=int, default=3, help="pairs per row (default 3)")
    parser.add_argument(
        "--inputs", nargs="+", choices=("generated", "corpus"), default=["generated", "corpus"]
    )
    parser.add_argument("--no-official", action="store_true", help="read: skip the libraries")
    parser.add_argument("--official-timeout", type=float, default=300)
    parser.add_argument(
        "--no-official-100k", action="store_true", help="read: skip the 2-minute official run"
    )
    parser.add_argument("--postgres", default=POSTGRES_URL)
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args(argv)

    compile_bytecode()
    load_start = os.getloadavg()[0]
    out = [
        "## Whole processes",
        "",
        "`scripts/bench_process.py`: every figure is a whole process, from spawn to exit "
        "(interpreter, imports, reading the file, the work, printing), run in alternating "
        f"pairs with its reference in the same run ({args.pairs} pairs; medians). The ratio "
        "is the median of the pairs' wall-time ratios: against an official library, how "
        "many times faster `sbom inspect` is (reference / measured); everywhere else, how "
        "many times the reference's time the command takes (measured / reference). The CPU "
        "ratio (user + system, set-up processes such as a fresh database's migration left "
        "out) moves less with other people's work on this shared machine. Peak MB is each "
        "process's own peak resident set. The checkout's modules are compiled to bytecode "
        "first, as installing the package does.",
        "",
    ]
    with tempfile.TemporaryDirectory() as name:
        workdir = Path(name)
        if "startup" in args.only:
            pairs = startup_pairs(workdir)
            for pair in pairs:
                pair.measure(max(args.pairs, 5), 120)
            out += ["### Start-up, per command", "", *startup_table(pairs), ""]
        if "read" in args.only:
            pairs = read_pairs(workdir, args.inputs, not args.no_official)
            for pair in pairs:
                # The official libraries take minutes on the biggest documents: one pair.
                big = "100,000" in pair.what and pair.reference.label != "json.load"
                if big and args.no_official_100k:
                    continue
                pair.measure(1 if big else args.pairs, args.official_timeout)
            measured = [pair for pair in pairs if pair.subject.runs]
            out += ["### Reading: `sbom inspect`", "", *table(measured, ""), ""]
        if "ingest" in args.only:
            version = postgres_reachable(args.postgres)
            pairs = ingest_pairs(workdir, args.postgres if version else None)
            for pair in pairs:
                pair.measure(args.pairs, 600)
            note = (
                f"PostgreSQL {version}, a fresh database per run."
                if version
                else ("PostgreSQL unreachable: its row is skipped.")
            )
            out += ["### Storing: `sbom ingest` against `sbom inspect`", "",
                    *table(pairs, note), ""]  # fmt: skip
        if "allocate" in args.only:
            pairs = allocate_pairs(workdir)
            for pair in pairs:
                pair.measure(args.pairs, 600)
            out += ["### `allocate`", "", *table(pairs, ""), ""]
    out.insert(
        2,
        f"Measured {datetime.date.today().isoformat()} on {machine()}; load average (1 min) "
        f"{load_start:.1f} at the start, {os.getloadavg()[0]:.1f} at the end.\n",
    )
    text = "\n".join(out)
    print(text)
    if args.write:
        from benchdocs import write_section

        write_section("## Whole processes", text)


if __name__ == "__main__":
    main()
