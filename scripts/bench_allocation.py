"""Benchmark of allocation: validating an `allocate` input and the engine's split.

A synthetic company per size: 50 products, 4 packages per project (packages map to
projects many to one, as monorepos do), 5,000 and 50,000 projects by default. For each
size it times, in this process and with the cyclic collector paused as `tributary
allocate` runs them: validating the JSON input document (``parse_request``: what the
command does before the engine) and the engine under three policies. Target: validation
and the engine's default split together under one second at 50,000 projects, each
growing linearly with the input. Usage::

    python scripts/bench_allocation.py [--projects 5000 50000] [--products 50]
        [--runs 5] [--seed 7] [--granularity 1] [--reference DIR [--pairs 3]] [--write]

Prints one table (``--write`` also replaces the "Allocation" section of
docs/benchmarks.md). Exits 1 when the 50,000-project pair is over the target.

``--reference DIR`` compares with the code of another checkout (an earlier commit, say
``git worktree add DIR <commit>``): for each size, ``--pairs`` pairs of fresh processes,
one on that code and one on this, in alternating order, each timing validation and the
default split on the same input; it reports each side's best and the median of the
pairs' ratios (this code's time / the reference's).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

# The code measured: this checkout, or (in a child process of --reference) another one.
sys.path.insert(0, os.environ.get("BENCH_ALLOCATION_CODE") or str(Path(__file__).parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from service.allocation.cli import parse_request
from service.allocation.engine import Candidate, ProductUse, Proposal, allocate
from service.allocation.policy import Policy
from service.core.collector import collector_paused

TARGET_SECONDS = 1.0
CODE_VARIABLE, CODE = "BENCH_ALLOCATION_CODE", str(Path(__file__).resolve().parents[1])
T = TypeVar("T")


@dataclass(frozen=True)
class Inventory:
    """Synthetic SBOM data: per product, the depth of each package it contains."""

    products: list[str]
    package_project: list[int]  # package index -> project index
    contents: list[dict[int, int | None]]  # per product: package index -> depth (None = unknown)


def make_inventory(products: int, packages: int, projects: int, rng: random.Random) -> Inventory:
    # A few projects own many packages (monorepos), most own one or two: a Pareto draw.
    owners = [min(projects - 1, int(rng.paretovariate(1.2)) - 1) for _ in range(packages)]
    # Spread the rest evenly so every project owns at least one package.
    package_project = [
        i % projects if i < projects else rng.choice(owners) for i in range(packages)
    ]
    rng.shuffle(package_project)
    contents: list[dict[int, int | None]] = []
    for _ in range(products):
        size = rng.randint(packages // 20, packages // 4)
        chosen = rng.sample(range(packages), size)
        depths: dict[int, int | None] = {}
        for package in chosen:
            # Container-image style SBOMs carry no graph: some depths are unknown.
            depths[package] = (
                None if rng.random() < 0.05 else min(12, 1 + int(rng.expovariate(0.6)))
            )
        contents.append(depths)
    return Inventory([f"product-{i:02d}" for i in range(products)], package_project, contents)


def build_candidates(inventory: Inventory, projects: int, rng: random.Random) -> list[Candidate]:
    """Projects with their shallowest depth per product: what the service layer will pass."""
    shallowest: list[dict[str, int | None]] = [{} for _ in range(projects)]
    for product, depths in zip(inventory.products, inventory.contents, strict=True):
        for package, depth in depths.items():
            uses = shallowest[inventory.package_project[package]]
            if product not in uses:
                uses[product] = depth
            elif depth is not None:
                current = uses[product]
                uses[product] = depth if current is None else min(current, depth)
    candidates = []
    for index, uses in enumerate(shallowest):
        candidates.append(
            Candidate(
                key=f"github.com/owner{index % 1700}/repo{index}",
                uses=tuple(ProductUse(name, depth) for name, depth in uses.items()),
                risk=None if rng.random() < 0.1 else rng.randint(0, 100),
                claimed=rng.random() < 0.7,
                first_party=rng.random() < 0.01,
                excluded=rng.random() < 0.01,
                boost=rng.choice((1, 1, 1, 1, 1, 1, 1, 1.5, 2, 0.5)),
                months_held=rng.randint(0, 3),
                pin_minimum=50_000 if index % 997 == 0 else None,
                override=100_000 if index % 1999 == 0 else None,
            )
        )
    return candidates


def timed(function: Callable[[], T], runs: int) -> tuple[list[float], T]:
    times = []
    result: T | None = None
    for _ in range(runs):
        # CPU time: on a shared machine wall time mostly measures the other processes.
        start = time.process_time()
        result = function()
        times.append(time.process_time() - start)
    assert result is not None
    return times, result


def allocation_document(candidates: list[Candidate]) -> dict:
    """The candidates as an `allocate` input document (what the command validates)."""
    projects = []
    for candidate in candidates:
        item = {
            "key": candidate.key,
            "products": [{"name": u.product, "depth": u.depth} for u in candidate.uses],
            "claimed": candidate.claimed,
            "first_party": candidate.first_party,
            "excluded": candidate.excluded,
            "boost": float(candidate.boost),
            "months_held": candidate.months_held,
        }
        if candidate.risk is not None:
            item["risk"] = int(candidate.risk)
        projects.append(item)
    return {"budget": {"amount": "25000.00", "currency": "USD"}, "projects": projects}


def measure(projects: int, args: argparse.Namespace) -> list[tuple[str, list[float], str]]:
    rng = random.Random(args.seed)
    inventory = make_inventory(args.products, projects * 4, projects, rng)
    candidates = build_candidates(inventory, projects, random.Random(args.seed))
    document = allocation_document(candidates)
    uses = sum(len(c.uses) for c in candidates)
    with collector_paused():
        times, request = timed(lambda: parse_request(document), args.runs)
        rows = [(f"{projects:,}: validate the input", times, f"{uses:,} product uses")]
        policies = {
            "default policy": Policy(granularity=args.granularity),
            "cap 1%, minimum 25.00": Policy(cap=0.01, minimum=2_500, granularity=args.granularity),
            "skip unclaimed, whole units": Policy(unclaimed="skip", granularity=100),
        }
        for label, policy in policies.items():
            times, proposal = timed(
                lambda policy=policy: allocate(request.candidates, request.budget, policy),
                args.runs,
            )
            rows.append((f"{projects:,}: allocate, {label}", times, _summary(proposal)))
    return rows


def child(projects: int, args: argparse.Namespace) -> None:
    """One side of a --reference pair: best CPU seconds of validation and the default split."""
    rng = random.Random(args.seed)
    inventory = make_inventory(args.products, projects * 4, projects, rng)
    document = allocation_document(build_candidates(inventory, projects, random.Random(args.seed)))
    policy = Policy(granularity=args.granularity)
    with collector_paused():
        validate, request = timed(lambda: parse_request(document), args.runs)
        split, _ = timed(lambda: allocate(request.candidates, request.budget, policy), args.runs)
    print(json.dumps({"validate": min(validate), "allocate": min(split)}))


def compare(reference: str, args: argparse.Namespace) -> list[str]:
    """Alternating pairs of processes on the reference's code and on this code, per size."""
    lines = [
        f"Against the code in `--reference` (the same inputs; {args.pairs} pairs of processes "
        "per size in alternating order, each side's best of the pairs, the ratio is the "
        "median of the pairs' ratios, this code / the reference):",
        "",
        "| projects | step | reference | this code | ratio |",
        "|---:|---|---:|---:|---:|",
    ]
    for projects in args.projects:
        sides: dict[str, list[dict[str, float]]] = {"reference": [], "this": []}
        for index in range(args.pairs):
            order = ("reference", "this") if index % 2 == 0 else ("this", "reference")
            for side in order:
                sides[side].append(
                    _child_run(projects, reference if side == "reference" else CODE, args)
                )
        for step in ("validate", "allocate", "pair"):
            ref, this = ([_step(run, step) for run in sides[s]] for s in ("reference", "this"))
            ratio = statistics.median(t / r for t, r in zip(this, ref, strict=True))
            lines.append(
                f"| {projects:,} | {step} | {min(ref) * 1000:,.0f} ms | {min(this) * 1000:,.0f} ms "
                f"| {ratio:.2f}x |"
            )
    return lines


def _child_run(projects: int, code: str, args: argparse.Namespace) -> dict[str, float]:
    command = [sys.executable, __file__, "--child", str(projects), "--runs", str(args.runs)]
    command += ["--products", str(args.products), "--seed", str(args.seed)]
    command += ["--granularity", str(args.granularity)]
    env = {**os.environ, CODE_VARIABLE: code}
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    result: dict[str, float] = json.loads(done.stdout.splitlines()[-1])
    return result


def _step(run: dict[str, float], step: str) -> float:
    return run["validate"] + run["allocate"] if step == "pair" else run[step]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, nargs="+", default=[5_000, 50_000])
    parser.add_argument("--products", type=int, default=50)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--granularity", type=int, default=1, help="minor units per step")
    parser.add_argument("--reference", metavar="DIR", help="a checkout to compare with")
    parser.add_argument("--pairs", type=int, default=3, help="pairs of processes per size")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, args)
        return 0

    rows: list[tuple[str, list[float], str]] = []
    pairs: dict[int, float] = {}
    for projects in args.projects:
        measured = measure(projects, args)
        pairs[projects] = min(measured[0][1]) + min(measured[1][1])
        rows += measured
    lines = [
        "## Allocation",
        "",
        f"`scripts/bench_allocation.py`, {datetime.date.today().isoformat()}: a synthetic "
        f"company of {args.products} products, 4 packages per project, "
        f"{', '.join(f'{n:,}' for n in args.projects)} projects (`--projects`); Python "
        f"{platform.python_version()}, load average (1 min) {os.getloadavg()[0]:.1f}. "
        "In-process, with the cyclic collector paused as `tributary allocate` runs them; "
        f"best and median CPU time of {args.runs} runs (the machine is shared). "
        "*Validate* is `parse_request` on the JSON document (every field checked, the "
        "candidates built); *allocate* is the engine.",
        "",
        "| step | best | median | result |",
        "|---|---:|---:|---|",
    ]
    lines += [
        f"| {label} | {min(times) * 1000:,.0f} ms | {statistics.median(times) * 1000:,.0f} ms "
        f"| {note} |"
        for label, times, note in rows
    ]
    lines.append("")
    lines += [
        f"Validate + allocate (default policy), best runs, at {n:,} projects: "
        f"{seconds * 1000:,.0f} ms."
        for n, seconds in pairs.items()
    ]
    if len(pairs) > 1:
        (small, a), (large, b) = min(pairs.items()), max(pairs.items())
        lines.append(
            f"From {small:,} to {large:,} projects ({large / small:.0f}x the input) the pair "
            f"takes {b / a:.1f}x the time."
        )
    if args.reference:
        lines += ["", *compare(str(Path(args.reference).resolve()), args)]
    text = "\n".join(lines)
    print(text)
    if args.write:
        from benchdocs import write_section

        write_section("## Allocation", text)
    largest = pairs[max(pairs)]
    return 0 if max(pairs) < 50_000 or largest < TARGET_SECONDS else 1


def _summary(proposal: Proposal) -> str:
    return (
        f"{len(proposal.lines):,} lines, {len(proposal.held):,} held, "
        f"{len(proposal.omitted):,} omitted, remainder {proposal.remainder}"
    )


if __name__ == "__main__":
    sys.exit(main())
