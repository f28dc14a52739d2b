"""Fault tests run real processes on a database of their own: a SQLite file, and a fresh
PostgreSQL database (required on CI, skipped with the reason elsewhere)."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator

import pytest

from service.db import Database
from tests.faults.processes import start


@pytest.fixture
def database(own_db) -> Database:
    return own_db


@pytest.fixture
def spawn() -> Iterator[Callable[..., subprocess.Popen]]:
    """`processes.start`, with every process it started killed when the test ends."""
    started: list[subprocess.Popen] = []

    def spawn_(*args, **kwargs) -> subprocess.Popen:
        started.append(start(*args, **kwargs))
        return started[-1]

    yield spawn_
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(30)
