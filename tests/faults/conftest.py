"""Fault tests run real processes on a database of their own: a SQLite file, and a fresh
PostgreSQL database (required on CI, skipped with the reason elsewhere)."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator

import pytest

from service.db import Database
from tests.faults.processes import start


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request, tmp_path) -> Iterator[Database]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/faults.db"
    else:
        url = request.getfixturevalue("fresh_postgres_url")
    database = Database(url)
    database.upgrade()
    yield database
    database.engine.dispose()


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
