"""scripts/serve.sh: the schema migrated first, gunicorn, the scheduler and the workers
up together, the host's metrics added up across its web processes, and SIGTERM stopping
every one of them."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_ready(base: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        try:
            if httpx.get(base + "/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise AssertionError("serve.sh never became ready:\n" + log.read_text())


def _log_says(log: Path, *lines: str, within: float = 60) -> str:
    """The log once every line has appeared in it: the scheduler and the worker start
    beside the web server and may write their first line after it is ready."""
    deadline = time.monotonic() + within
    text = log.read_text()
    while not all(line in text for line in lines) and time.monotonic() < deadline:
        time.sleep(0.3)
        text = log.read_text()
    return text


def _group_gone(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return True
    return False


def test_serve_starts_the_host_and_sigterm_stops_all_of_it(tmp_path):
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve.log"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path}/serve.db",  # empty: serve.sh migrates it
        "TRIBUTARY_ENV": "development",
        "TRIBUTARY_INSTANCE_PATH": str(tmp_path / "instance"),
        "TRIBUTARY_METRICS_TOKEN": "scrape-token",
        "TRIBUTARY_BIND": f"127.0.0.1:{port}",
        "TRIBUTARY_BIN": str(Path(sys.executable).parent),
        "WEB_CONCURRENCY": "2",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    with log.open("w") as output:
        serve = subprocess.Popen(
            ["bash", "scripts/serve.sh", "--workers", "1", "--threads", "1"],
            cwd=REPO,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_ready(base, serve, log)
        with httpx.Client(base_url=base, timeout=10) as client:
            for _ in range(20):
                assert client.get("/healthz").status_code == 200
            metrics = client.get("/metrics", headers={"Authorization": "Bearer scrape-token"})
        assert metrics.status_code == 200
        line = next(
            row
            for row in metrics.text.splitlines()
            if row.startswith("tributary_http_requests_total") and 'route="/healthz"' in row
        )
        # Every one of the 20 is counted, whichever of the two web workers served it.
        assert float(line.rsplit(" ", 1)[1]) == 20
        started = _log_says(log, "Booting worker", '"process": "scheduler"', '"process": "worker"')
        assert "Booting worker" in started
        assert '"process": "scheduler"' in started and '"process": "worker"' in started

        serve.send_signal(signal.SIGTERM)
        assert serve.wait(60) == 0, log.read_text()
        deadline = time.monotonic() + 30
        while not _group_gone(serve.pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _group_gone(serve.pid), "a process of the host outlived serve.sh"
    finally:
        if serve.poll() is None or not _group_gone(serve.pid):
            os.killpg(serve.pid, signal.SIGKILL)
            serve.wait(30)
