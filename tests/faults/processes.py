"""Real `tributary` processes for the fault tests, plus a task kind that waits on a file.

Run as `python -m tests.faults.processes <tributary arguments>`: the CLI as operators run
it, with one more task kind registered, `test.gate`, which writes "start <pid>" to its
log, waits until its gate file exists, then writes "end <pid>".
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from service.jobs.registry import task

REPO_ROOT = Path(__file__).resolve().parents[2]
GATE_TASK = "test.gate"


@task(GATE_TASK)
def wait_at_the_gate(payload: dict[str, Any], _now) -> None:
    log, gate = Path(payload["log"]), Path(payload["gate"])
    with log.open("a") as out:
        out.write(f"start {os.getpid()}\n")
    deadline = time.monotonic() + 120
    while not gate.exists():
        if time.monotonic() > deadline:
            raise TimeoutError("the gate never opened")
        time.sleep(0.05)
    with log.open("a") as out:
        out.write(f"end {os.getpid()}\n")


def start(database_url: str, instance: Path, *args: str, **env: str) -> subprocess.Popen:
    """Start `tributary ARGS` on the database; its output goes to a file in `instance`."""
    instance.mkdir(parents=True, exist_ok=True)
    path = instance / f"{args[0]}-{time.monotonic_ns()}.log"
    with path.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.faults.processes", *args],
            cwd=REPO_ROOT,
            stdout=output,
            stderr=subprocess.STDOUT,
            env={
                **os.environ,
                "DATABASE_URL": database_url,
                "TRIBUTARY_ENV": "development",
                "TRIBUTARY_INSTANCE_PATH": str(instance),
                **env,
            },
        )
    process.output = path  # type: ignore[attr-defined]
    return process


def started(process: subprocess.Popen) -> bool:
    """The process has logged its start (its signal handlers are installed by then)."""
    return " started" in process.output.read_text()  # type: ignore[attr-defined]


def wait_for(what: str, check: Callable[[], Any], timeout: float = 90.0) -> Any:
    """Poll `check` until it answers something true; fail naming `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answer = check()
        if answer:
            return answer
        time.sleep(0.1)
    raise AssertionError(f"gave up waiting for {what} after {timeout:.0f} s")


if __name__ == "__main__":
    from datetime import timedelta

    from service.cli import cli
    from service.core.clock import SystemClock, set_clock

    # The same clock as the test that started us (CI shifts it by years).
    set_clock(
        SystemClock(timedelta(days=int(os.environ.get("TRIBUTARY_TEST_CLOCK_SHIFT_DAYS", "0"))))
    )

    cli.main(args=sys.argv[1:], prog_name="tributary")
