"""Fault tests run real processes on a database of their own: a SQLite file, and a fresh
PostgreSQL database (required on CI, skipped with the reason elsewhere)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from service.db import Database


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
