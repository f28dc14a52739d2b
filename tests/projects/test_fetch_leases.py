"""Runs at once, across processes (each run here has its own engine): one request per
package and source at a time, the others wait for its answer; their counts add up."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from service.companies.models import Company
from service.core.http import OutboundClient
from service.db import Database
from service.projects import cache, fetch_leases, resolution
from service.projects.fetch_leases import FetchGate
from service.projects.models import (
    CompanyPackageLink,
    FetchLease,
    MetadataCacheEntry,
    OutboundUsage,
    PackageResolution,
)
from service.projects.providers import ProviderResult, build_providers
from service.projects.resolution import Resolver
from service.projects.resolution_store import (
    record_usage,
    replace_company_links,
    upsert_cache,
    upsert_resolutions,
)
from service.projects.shared_batches import SharedBatches
from service.sboms.models import Package
from tests.fakes.registries import FakePackage, FakeRepo, start_fake_registries
from tests.projects.conftest import NOW, no_dns

PAIR = ("npm", "pkg:npm/left-pad")
EPOCH = 1_900_000_000.0


class Clock:
    """Epoch seconds that move only when the gate sleeps."""

    def __init__(self) -> None:
        self.now = EPOCH

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


class Recorder:
    """What the gate told one fetch: go ahead, or here is the answer another run stored."""

    def __init__(self) -> None:
        self.won = 0
        self.answers: list[cache.CacheRow] = []

    def want(self, gate: FetchGate, seen: cache.CacheRow | None = None) -> None:
        gate.want(PAIR, seen, self._won, self.answers.append)

    def _won(self) -> None:
        self.won += 1


def gate(app, clock: Clock, **options) -> FetchGate:
    return FetchGate(app.extensions["tributary.db"], clock=clock, sleep=clock.sleep, **options)


def lease(session, holder: str, until: float) -> None:
    session.add(FetchLease(source=PAIR[0], key=PAIR[1], holder=holder, until=until))
    session.commit()


def store_answer(session, holder: str | None = "other") -> None:
    """What the holder's run does once answered: the row, and its lease given back."""
    result = ProviderResult(source=PAIR[0], package_key=PAIR[1], error="timeout")
    upsert_cache(session, [cache.apply_result(None, result, NOW, timedelta(days=7))])
    if holder:
        fetch_leases.give_back(session, holder, [PAIR])
    session.commit()


def test_a_free_pair_is_leased_and_asked_then_given_back(app, session):
    clock, fetch = Clock(), Recorder()
    one = gate(app, clock)
    fetch.want(one)
    one.step(idle=True)
    assert fetch.won == 1 and not one.busy
    assert session.exec(select(FetchLease.holder)).all() == [one.holder]
    one.close()
    assert session.exec(select(FetchLease)).all() == []


def test_a_leased_pair_waits_for_the_answer_its_holder_stores(app, session):
    clock, fetch = Clock(), Recorder()
    lease(session, "other", EPOCH + 60)
    one = gate(app, clock)
    fetch.want(one)
    one.step(idle=True)
    one.pause()
    one.step(idle=True)
    assert (fetch.won, fetch.answers, one.busy) == (0, [], True)
    store_answer(session)
    one.pause()
    one.step(idle=True)
    assert fetch.won == 0 and [row.key for row in fetch.answers] == [PAIR[1]]
    assert not one.busy


def test_an_answer_stored_before_the_lease_is_used_not_asked_again(app, session):
    clock, fetch = Clock(), Recorder()
    store_answer(session, holder=None)  # another run finished after this one planned
    one = gate(app, clock)
    fetch.want(one, seen=None)
    one.step(idle=True)
    assert fetch.won == 0 and len(fetch.answers) == 1
    assert session.exec(select(FetchLease)).all() == []


def test_a_holder_that_died_loses_its_lease_and_the_waiter_asks(app, session):
    clock, fetch = Clock(), Recorder()
    lease(session, "died", EPOCH + 60)  # never renewed, never given back
    one = gate(app, clock)
    fetch.want(one)
    one.step(idle=True)
    while one.busy and clock.now < EPOCH + 120:
        one.pause()
        one.step(idle=True)
    assert fetch.won == 1 and fetch.answers == []
    assert session.exec(select(FetchLease.holder)).all() == [one.holder]


def test_the_wait_for_a_live_holder_is_bounded(app, session):
    clock, fetch = Clock(), Recorder()
    lease(session, "slow", EPOCH + 10_000)
    one = gate(app, clock, max_wait=30.0)
    fetch.want(one)
    one.step(idle=True)
    while one.busy and clock.now < EPOCH + 60:
        one.pause()
        one.step(idle=True)
    assert fetch.won == 1 and EPOCH + 30 <= clock.now < EPOCH + 31


def test_the_holder_renews_its_leases_while_it_works(app, session):
    clock, fetch = Clock(), Recorder()
    one = gate(app, clock, lease=60.0)
    fetch.want(one)
    one.step(idle=True)
    clock.now += 30
    one.step(idle=True)
    assert session.exec(select(FetchLease.until)).all() == [EPOCH + 90]


def add_packages(url: str, keys: list[str]) -> list[int]:
    setup = Database(url)
    with setup.transaction() as session:
        session.add_all(Package(key=k, ecosystem=k[4:7], name=k.rsplit("/")[-1]) for k in keys)
    with setup.transaction() as session:
        ids = list(session.exec(select(Package.id).order_by(Package.id)))
    setup.engine.dispose()
    return ids


def run_at_once(
    url: str, registries, runs: list[list[int]], enabled: list[str], github_token: str | None = None
) -> None:
    """Each run in a thread of its own, as a process would: its own engine and client."""
    start = threading.Barrier(len(runs))
    failures: list[BaseException] = []

    def run(ids: list[int]) -> None:
        database = Database(url)
        client = OutboundClient(
            allow_hosts=["127.0.0.1"], resolver=no_dns, trust_env=False, version="test"
        )
        providers = build_providers(
            client, base_urls=registries.base_urls, enabled=enabled, github_token=github_token
        )
        try:
            start.wait()
            Resolver(database, providers, now=NOW, ttl=timedelta(days=7)).run(ids)
        except BaseException as exc:
            failures.append(exc)
        finally:
            client.close()
            database.engine.dispose()

    threads = [threading.Thread(target=run, args=(ids,)) for ids in runs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


def test_two_runs_at_once_ask_each_package_once(own_database, registries, monkeypatch):
    keys = ["pkg:npm/left-pad", "pkg:pypi/requests"] + [f"pkg:npm/pkg-{i}" for i in range(10)]
    ids = add_packages(own_database, keys)
    monkeypatch.setattr(registries.app, "latency", 0.02)  # the runs overlap
    run_at_once(own_database, registries, [ids, ids], ["npm", "pypi"])
    assert registries.counts() == {"npm": 11, "pypi": 1}


def test_two_runs_at_once_fill_the_batches_one_run_would(own_database, registries, monkeypatch):
    keys = [f"pkg:npm/pkg-{i}" for i in range(24)]
    ids = add_packages(own_database, keys)
    monkeypatch.setattr(registries.app, "latency", 0.02)
    monkeypatch.setattr(resolution, "ECOSYSTEMS_BATCH", 8)  # one run: 3 batches of 8
    # 12 packages each: alone, each run would send a batch of 8 and one of 4.
    run_at_once(own_database, registries, [ids[:12], ids[12:]], ["npm", "ecosystems"])
    assert registries.counts() == {"npm": 24, "ecosystems": 3}
    database = Database(own_database)
    with database.transaction() as session:
        rows = session.exec(
            select(MetadataCacheEntry.key).where(MetadataCacheEntry.source == "ecosystems")
        )
        assert sorted(rows) == sorted(keys)
        resolved = session.exec(select(PackageResolution.package_id))
        assert sorted(resolved) == sorted(ids)
        assert session.exec(select(FetchLease)).all() == []
    database.engine.dispose()


def test_two_runs_at_once_fill_the_graphql_batches_one_run_would(own_database, monkeypatch):
    packages = [
        FakePackage("npm", f"batch-{i}", "1.0.0", repo=f"github.com/batch/repo-{i}")
        for i in range(24)
    ]
    repos = [FakeRepo(f"github.com/batch/repo-{i}") for i in range(24)]
    ids = add_packages(own_database, [f"pkg:npm/batch-{i}" for i in range(24)])
    monkeypatch.setattr(resolution, "REPOSITORY_BATCH", 8)  # one run: 3 queries of 8
    with start_fake_registries(packages=packages, repos=repos, latency=0.02) as fake:
        # 12 repositories each: alone, each run would send a query of 8 and one of 4.
        run_at_once(own_database, fake, [ids[:12], ids[12:]], ["npm", "github"], "ghp_test")
        assert fake.counts() == {"npm": 24, "github": 3}
    database = Database(own_database)
    with database.transaction() as session:
        rows = session.exec(
            select(MetadataCacheEntry.key).where(MetadataCacheEntry.source == "github")
        )
        assert sorted(rows) == sorted(f"pkg:github/batch/repo-{i}" for i in range(24))
        assert session.exec(select(FetchLease)).all() == []
    database.engine.dispose()


def second_run_waiting(
    database: Database, work: Callable[[Session], None]
) -> tuple[threading.Thread, list[BaseException]]:
    """Start `work` in a transaction of its own on a thread, as a second run would, and
    return once it waits for a lock the first run holds (on PostgreSQL; on SQLite it cannot
    begin before the first commits). Its failures land in the list returned."""
    failures: list[BaseException] = []

    def second() -> None:
        try:
            with database.transaction() as session:
                work(session)
        except BaseException as exc:
            failures.append(exc)

    thread = threading.Thread(target=second)
    thread.start()
    if database.engine.dialect.name == "postgresql":
        with database.engine.connect() as connection:
            waiting = text("SELECT count(*) FROM pg_locks WHERE NOT granted")
            for _ in range(1000):
                if connection.execute(waiting).scalar():
                    break
                time.sleep(0.01)
    return thread, failures


@pytest.mark.postgres
def test_two_runs_counting_the_same_day_and_source_at_once_add_up(fresh_postgres_url):
    database = Database(fresh_postgres_url)
    database.upgrade()
    first = database.session(writer=True)
    record_usage(first, {"npm": 3}, NOW.date())  # not committed yet: the row is locked
    thread, failures = second_run_waiting(
        database, lambda session: record_usage(session, {"npm": 4}, NOW.date())
    )
    first.commit()
    first.close()
    thread.join()
    with database.transaction() as session:
        assert session.exec(select(OutboundUsage.requests)).all() == [7]
    assert failures == []
    database.engine.dispose()


def link_row(company_id: int, package_id: int, note: str) -> dict:
    return {
        "company_id": company_id,
        "package_id": package_id,
        "project_id": None,
        "note": note,
        "updated_at": NOW,
    }


def test_two_runs_writing_the_same_company_links_at_once_both_succeed(own_database):
    database = Database(own_database)
    with database.transaction() as session:
        company = Company(slug="acme", name="Acme")
        packages = [Package(key=f"pkg:npm/p{i}", ecosystem="npm", name=f"p{i}") for i in (1, 2)]
        session.add_all([company, *packages])
        session.flush()
        ids, company_id = [p.id for p in packages], company.id
        replace_company_links(session, ids, [link_row(company_id, ids[1], "old")])
    first = database.session(writer=True)  # a run's flush, not committed yet
    replace_company_links(first, ids, [link_row(company_id, i, "first") for i in ids])
    rows = [link_row(company_id, i, "second") for i in reversed(ids)]
    thread, failures = second_run_waiting(
        database, lambda session: replace_company_links(session, ids, rows)
    )
    first.commit()
    first.close()
    thread.join()
    assert failures == []
    with database.transaction() as session:
        links = session.exec(select(CompanyPackageLink.package_id, CompanyPackageLink.note))
        assert sorted(links) == [(ids[0], "second"), (ids[1], "second")]
    database.engine.dispose()


def resolution_row(package_id: int) -> dict:
    return {"package_id": package_id, "status": "resolved", "resolved_at": NOW, "updated_at": NOW}


@pytest.mark.postgres
def test_two_runs_writing_the_same_resolutions_in_other_orders_wait_not_deadlock(
    fresh_postgres_url,
):
    database = Database(fresh_postgres_url)
    database.upgrade()
    with database.transaction() as session:
        packages = [Package(key=f"pkg:npm/p{i}", ecosystem="npm", name=f"p{i}") for i in (1, 2)]
        session.add_all(packages)
        session.flush()
        ids = [p.id for p in packages]
    first = database.session(writer=True)
    upsert_resolutions(first, [resolution_row(ids[0])])  # holds the first row
    rows = [resolution_row(i) for i in reversed(ids)]  # the same rows, the other way round
    thread, failures = second_run_waiting(
        database, lambda session: upsert_resolutions(session, rows)
    )
    try:
        upsert_resolutions(first, [resolution_row(ids[1])])
        first.commit()
    except BaseException as exc:
        failures.append(exc)
    first.close()
    thread.join()
    assert failures == []
    database.engine.dispose()


def test_a_partial_batch_of_lookups_nobody_leased_is_sent_at_once(app, session):
    """A snapshot answers without leases: there is nothing to share, so nothing to wait
    for, even while another run is fetching."""
    lease(session, "other", EPOCH + 60)  # another run's fetch in flight
    batches = SharedBatches(gate(app, Clock()), "ecosystems", 10, clock=Clock())
    item = SimpleNamespace(key="pkg:npm/left-pad")
    batches.add(item, "signals")
    batch = batches.take(idle=True)
    assert batch is not None and batch.keys == ["pkg:npm/left-pad"]


def test_a_partial_batch_waits_while_another_run_waits_for_a_fetch(app, session):
    """That run may want more lookups once the answer comes: the batch stays open."""
    clock = Clock()
    lease(session, "other", EPOCH + 60)
    waiter = gate(app, clock)
    Recorder().want(waiter)  # waits for the other run's fetch of PAIR
    waiter.step(idle=True)
    store_answer(session)  # answered: the waiter will see it at its next look
    one = gate(app, clock)
    batches = SharedBatches(one, "ecosystems", 10, clock=clock)
    item = SimpleNamespace(key="pkg:npm/left-pad")
    queue = lambda: batches.add(item, "signals")  # noqa: E731
    one.want(("ecosystems", item.key), None, queue, print, batched=True)
    one.step(idle=True)
    assert batches.take(idle=True) is None  # held for the waiting run
    clock.now += 0.2
    waiter.step(idle=True)  # it sees the answer: waits no more
    clock.now += 1.0
    batch = batches.take(idle=True)
    assert batch is not None and batch.keys == [item.key]
