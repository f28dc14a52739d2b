"""Shared by the benchmark scripts: median timing and writing a section of the results doc."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


def timed(fn: Callable[[], object], runs: int = 5) -> float:
    """Median seconds of `runs` calls, after one warm-up call (caches, compilation)."""
    fn()
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - began)
    return statistics.median(samples)


def write_section(section: str, text: str) -> None:
    """Replace (or append) one "## ..." section of docs/benchmarks.md, keeping the others."""
    BENCHMARKS.parent.mkdir(parents=True, exist_ok=True)
    current = BENCHMARKS.read_text(encoding="utf-8") if BENCHMARKS.exists() else "# Benchmarks\n"
    lines = current.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.strip() == section), None)
    if start is None:
        updated = current.rstrip("\n") + "\n\n" + text
    else:
        end = next(
            (i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines)
        )
        rest = "".join(lines[end:])
        updated = "".join(lines[:start]) + text + ("\n" + rest if rest else "")
    BENCHMARKS.write_text(updated.rstrip("\n") + "\n", encoding="utf-8")
