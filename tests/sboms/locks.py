"""Waiting, in a test, until another PostgreSQL session is blocked on a lock."""

from __future__ import annotations

import time

import pytest

from service.db import Database


def wait_until_a_session_waits_on_a_lock(database: Database) -> None:
    """Return once a session of `database` waits on a lock (fail after a minute)."""
    query = (
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    with database.engine.connect() as watcher:
        for _ in range(6000):
            waiting = watcher.exec_driver_sql(query).scalar()
            # The server reads the sessions' states once a transaction: each look, its own.
            watcher.rollback()
            if waiting:
                return
            time.sleep(0.01)
    pytest.fail("no session ever waited on a lock")
