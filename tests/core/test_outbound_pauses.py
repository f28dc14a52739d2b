"""Limits shared through the database: every process on it honours a pause one of them
was told, and together they keep a host's slots and a source's spacing."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator

import httpx
import pytest
from sqlalchemy import Engine, create_engine, delete
from sqlmodel import col

from service.core.fetch_results import RateLimitedError
from service.core.models import OutboundPause, OutboundSlot, OutboundSpacing
from service.core.outbound_files import FileLimits
from service.core.outbound_limits import LocalLimits
from service.core.outbound_pauses import DatabaseLimits
from service.db import make_engine
from service.projects.sources import build_outbound
from service.settings import load_settings
from tests.core.test_http import Clock, make_client, sequence

NOW = 1_700_000_000.0


@pytest.fixture
def key() -> str:
    """A key of this test's own (a host's name, so that its requests' keys start with it)."""
    return f"pauses-{uuid.uuid4().hex}.example"


@pytest.fixture
def processes(database, key) -> Iterator[Callable[[Clock], DatabaseLimits]]:
    """Limits as separate processes would hold them: each with its own engine on the
    test database (its writes are committed, so the rows of `key` are deleted after)."""
    engines: list[Engine] = []

    def limits(clock: Clock) -> DatabaseLimits:
        engines.append(make_engine(database.url))
        return DatabaseLimits(engines[-1], clock, clock.sleep)

    yield limits
    with database.engine.begin() as connection:
        for table in (OutboundPause, OutboundSlot, OutboundSpacing):
            connection.execute(delete(table).where(col(table.key).startswith(key)))
    for engine in engines:
        engine.dispose()


def test_a_pause_one_process_announces_holds_the_others(processes, key):
    clock = Clock()
    one, two = processes(clock), processes(clock)
    assert two.paused_until(key) is None
    one.pause(key, NOW + 60)
    assert one.paused_until(key) == NOW + 60  # its own pause at once
    clock.now += 1.0
    assert two.paused_until(key) == NOW + 60


def test_the_later_pause_wins(processes, key):
    clock = Clock()
    one, two = processes(clock), processes(clock)
    one.pause(key, NOW + 60)
    two.pause(key, NOW + 30)
    assert processes(clock).paused_until(key) == NOW + 60
    two.pause(key, NOW + 90)
    assert processes(clock).paused_until(key) == NOW + 90


def test_resume_lifts_only_the_pause_that_was_waited_out(processes, key):
    clock = Clock()
    one, two = processes(clock), processes(clock)
    one.pause(key, NOW + 60)
    assert two.paused_until(key) == NOW + 60
    one.pause(key, NOW + 90)  # announced while the other process waited
    two.resume(key, NOW + 60)
    assert processes(clock).paused_until(key) == NOW + 90
    one.resume(key, NOW + 90)
    assert processes(clock).paused_until(key) is None


def test_the_read_is_cached_until_its_time_passes(processes, key):
    clock = Clock()
    one, two = processes(clock), processes(clock)
    assert two.paused_until(key) is None
    one.pause(key, NOW + 60)
    clock.now += 0.5
    assert two.paused_until(key) is None  # still the read of half a second ago
    clock.now += 0.5
    assert two.paused_until(key) == NOW + 60


def test_a_pause_from_a_429_stops_the_other_process_sending(processes, key):
    clock = Clock()
    first, first_seen = sequence(httpx.Response(429, headers={"Retry-After": "3000"}))
    second, second_seen = sequence(httpx.Response(200, content=b"{}"))
    one = make_client(first, clock=clock, sleep=clock.sleep, limits=processes(clock))
    two = make_client(second, clock=clock, sleep=clock.sleep, limits=processes(clock))
    url = f"https://{key}/a"
    with pytest.raises(RateLimitedError):
        one.get(url)
    with pytest.raises(RateLimitedError):
        two.get(url)
    assert (len(first_seen), len(second_seen)) == (1, 0)


def test_two_processes_never_hold_more_slots_than_the_limit_together(processes, key):
    clock = Clock()
    one, two = processes(clock), processes(clock)
    held = [one.acquire(key, 2, 0.0), one.acquire(key, 2, 0.0)]
    polls: list[float] = []

    def poll(seconds: float) -> None:  # the other process frees a slot while this one waits
        polls.append(seconds)
        one.release(key, held.pop())

    two._sleep = poll
    token = two.acquire(key, 2, 0.0)
    assert len(polls) == 1 and token.split(":")[0] in {"0", "1"}
    two.release(key, token)
    one.release(key, held.pop())


def test_a_slot_freed_in_a_process_goes_to_its_thread_that_waits_not_back_to_the_poll(
    processes, key
):
    clock = Clock()
    one, two = processes(clock), processes(clock)
    others = [two.acquire(key, 3, 0.0), two.acquire(key, 3, 0.0)]  # 2 of the 3 slots
    mine = one.acquire(key, 3, 0.0)
    polls: list[float] = []
    stop = threading.Event()

    def poll(seconds: float) -> None:  # a polling thread sleeps until the test ends
        polls.append(seconds)
        stop.wait(30)

    one._sleep = poll
    got: list[str] = []
    threads = [
        threading.Thread(target=lambda: got.append(one.acquire(key, 3, 0.0))) for _ in range(2)
    ]
    for thread in threads:
        thread.start()

    def both_waiting() -> bool:  # both polling (each on its own), or one polls, one waits
        waiters = getattr(one, "_waiters", {}).get(key)
        return len(polls) == 2 or (len(polls) == 1 and waiters is not None and waiters.count == 2)

    for _ in range(1000):
        if both_waiting():
            break
        time.sleep(0.01)
    one.release(key, mine)
    for _ in range(1000):
        if got:
            break
        time.sleep(0.01)
    handed, polled = list(got), len(polls)
    stop.set()
    for token in others:
        two.release(key, token)
    for thread in threads:
        thread.join()
    for token in got:
        one.release(key, token)
    assert [token.split(":")[0] for token in handed] == [mine.split(":")[0]]
    assert polled == 1  # the other thread waited for the slot, not for its next poll


def test_a_slot_of_a_process_that_died_is_free_when_its_lease_runs_out(processes, key):
    clock = Clock()
    died = processes(clock)
    died.acquire(key, 1, 0.0)  # never released
    other = processes(clock)
    other.acquire(key, 1, 0.0)
    assert clock.now >= NOW + 120  # it polled until the lease of 120 s ran out


def test_the_spacing_a_source_asks_for_holds_across_processes(processes, key):
    clock = Clock()
    one, two = processes(clock), processes(clock)
    one.release(key, one.acquire(key, 1, 1.0))
    two.release(key, two.acquire(key, 1, 1.0))
    assert clock.sleeps == [1.0]
    clock.now += 5.0
    one.release(key, one.acquire(key, 1, 1.0))
    assert clock.sleeps == [1.0]


def test_a_failing_database_means_no_shared_pause_not_a_failed_fetch(tmp_path, caplog):
    clock = Clock()
    engine = make_engine(f"sqlite:///{tmp_path}/unmigrated.db")  # no outbound_pauses table
    limits = DatabaseLimits(engine, clock, clock.sleep)
    handler, seen = sequence(httpx.Response(200, content=b"{}"))
    client = make_client(handler, clock=clock, sleep=clock.sleep, limits=limits)
    with caplog.at_level(logging.WARNING, logger="service.core.outbound_pauses"):
        assert client.get("https://registry.example/a").status == 200
        limits.pause("registry.example:443", NOW + 60)
    assert len(seen) == 1
    assert limits.paused_until("registry.example:443") == NOW + 60  # its own still holds
    assert any("unknown until the next read" in r.getMessage() for r in caplog.records)
    assert any("kept in this process only" in r.getMessage() for r in caplog.records)
    assert any("taken in this process only" in r.getMessage() for r in caplog.records)
    engine.dispose()


@pytest.mark.parametrize(
    ("env", "url", "chosen"),
    [
        ("development", "postgresql+psycopg://tributary@127.0.0.1/tributary", DatabaseLimits),
        ("development", "sqlite://", LocalLimits),
        ("development", "sqlite:////var/lib/tributary/tributary.db", FileLimits),
        ("test", "sqlite:////var/lib/tributary/tributary.db", LocalLimits),
        ("test", "postgresql+psycopg://tributary@127.0.0.1/tributary", LocalLimits),
    ],
)
def test_without_redis_pauses_are_shared_through_postgresql(env, url, chosen):
    engine = create_engine(url)  # never connected: choosing reads only its dialect
    client = build_outbound(load_settings({"env": env, "redis_url": None}), engine)
    assert type(client.limits) is chosen
    client.close()
