"""Resolution: package → source repository (project) → people and funding channels.

For every package the sources are tried cheapest first, and every answer is recorded
with its source and time:

1. the purl itself when its type names a repository (``pkg:github/o/r``,
   ``pkg:golang/github.com/o/r``) — no request;
2. each company's SBOM hints (external references of type vcs / website / distribution,
   SPDX ``downloadLocation`` / ``sourceInfo``) — no request; only known forges count,
   and a hint aimed at a private or local address is recorded as blocked.  They are kept
   per company (``CompanyPackageLink``), never in the shared resolution: one company's
   SBOM speaks for that company's inventory alone;
3. the shared metadata cache, then the package's registry (PyPI, npm, crates, RubyGems,
   Maven, NuGet, Go) — asked for every package it covers, because it is also where the
   people who can publish, funding links and release dates come from; within the TTL
   the cache answers and nothing is sent, after it the request is conditional;
4. only when no repository is known yet: deps.dev, then ecosyste.ms (batched, 100 a
   request) for a link; a package whose registry failed for now waits for its backoff
   instead; a linked package is still asked of ecosyste.ms in the same batches, for its
   dependents, downloads, advisories and people (a gem's owners are nowhere else in one
   request), but its link there never counts;
5. the repository itself through the GitHub API (archived, pushed_at, owner type,
   FUNDING.yml, funding.json, top contributors), once per project, cached the same way.

Which link wins is decided by the pure rules in ``service.projects.links``; what a
package's state comes to, by ``service.projects.resolution_state``; what is stored, by
``service.projects.resolution_store``.

Fetching happens on a thread pool; the outbound client's per-host limit is what bounds
concurrency.  Every database write happens on the calling thread, in batches, each
batch its own transaction, so progress is visible while a run goes on and a crash loses
at most one batch.  Outside failures never raise: they end up on the package
(``status=error`` with the reason) and are retried with backoff.
"""

from __future__ import annotations

import queue
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import nullcontext
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from service.core.clock import current_period
from service.db import Database
from service.projects import cache
from service.projects.cache import Action
from service.projects.fetch_leases import FetchGate
from service.projects.links import (
    PACKAGE_SOURCES,
    source_note,
)
from service.projects.models import (
    PackageResolution,
    Project,
    as_utc,
)
from service.projects.providers import (
    PackageMetadata,
    Provider,
    ProviderResult,
    github_graphql,
    safe_batch,
    safe_fetch,
)
from service.projects.providers.offline import OfflineProvider
from service.projects.resolution_state import (
    PackageWork,
    RepositoryLookup,
    ResolutionReport,
    company_link_rows,
    outcome,
    resolution_rows,
)
from service.projects.resolution_store import (
    add_package_requests,
    ensure_projects,
    inventory_hints,
    record_usage,
    refresh_project_data,
    replace_company_links,
    retry_project_by,
    upsert_cache,
    upsert_resolutions,
    versions_in_use,
)
from service.projects.shared_batches import Batch, SharedBatches
from service.projects.urls import RepoRef
from service.sboms.models import Package

ECOSYSTEMS_BATCH = 100
# Repositories per batch for a GitHub provider with a token (one GraphQL query each).
REPOSITORY_BATCH = github_graphql.BATCH
FLUSH_EVERY = 250  # finished packages written per transaction

Progress = Callable[[int], None]


class Resolver:
    """Runs resolution for a set of packages (see the module docstring)."""

    def __init__(
        self,
        database: Database,
        providers: Mapping[str, Provider],
        *,
        now: datetime,
        ttl: timedelta,
        workers: int = 32,
        retry_now: bool = False,
        progress: Progress | None = None,
        github_host: str | None = None,
        sent: Callable[[], Mapping[str, int]] | None = None,
        gate: FetchGate | None = None,
    ) -> None:
        self.database = database
        self.providers = dict(providers)
        self.now = now
        self.ttl = ttl
        self.workers = max(1, workers)
        self.retry_now = retry_now
        self.progress = progress
        # Requests sent so far (the client's counters): recorded with every batch written,
        # so a run that dies still shows in `metadata stats` what it sent.
        self._sent = sent
        self._recorded = dict(sent()) if sent else {}
        github = self.providers.get("github")
        self.github_host = github_host or getattr(github, "web_host", None) or "github.com"
        self.report = ResolutionReport()
        # Leases: one run at a time asks a source about a package (others wait for it).
        self._gate = gate or FetchGate(database)
        self._cache_rows: dict[tuple[str, str], cache.CacheRow] = {}
        self._dirty_cache: dict[tuple[str, str], cache.CacheRow] = {}
        self._finished: list[PackageWork] = []
        self._projects: dict[str, int] = {}
        self._touched_projects: set[str] = set()  # whose data must be recomputed
        self._refreshed: set[str] = set()
        self._repos_seen: set[str] = set()
        self._pool: ThreadPoolExecutor | None = None  # None: offline, answered in this thread
        self._pending: dict[Future, tuple[str, Any]] = {}
        self._completed: queue.SimpleQueue[Future] = queue.SimpleQueue()
        # ecosyste.ms lookups: for a link, or (linked packages) for signals only.
        self._batches: SharedBatches[PackageWork] = SharedBatches(
            self._gate, "ecosystems", ECOSYSTEMS_BATCH
        )
        # Repositories due, for a GitHub provider that answers many in one query (GraphQL
        # asks nothing conditionally), batched across runs as ecosyste.ms' lookups are.
        self._repo_batches: SharedBatches[RepositoryLookup] = SharedBatches(
            self._gate, "github", REPOSITORY_BATCH
        )
        self._repo_retries: dict[str, datetime] = {}  # repository key → when to ask again
        # Per package and source: requests sent, answered 304, served by the cache.
        self._asked: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))

    # -- entry point -------------------------------------------------------------------

    def run(self, package_ids: Iterable[int]) -> ResolutionReport:
        started = time.monotonic()
        ids = list(dict.fromkeys(package_ids))
        self.report.packages = len(ids)
        # A snapshot answers from memory: threads would only take turns on the interpreter.
        local = all(isinstance(p, OfflineProvider) for p in self.providers.values())
        pool = None if local else ThreadPoolExecutor(self.workers, thread_name_prefix="resolve")
        try:
            with pool or nullcontext():
                self._pool = pool
                for chunk in cache._chunks(ids, 2000):
                    self._start(self._load(chunk))
                    self._drain()
                self._flush()
        finally:
            self._gate.close()
        self._retry_repositories()
        self._refresh_projects()
        self.report.seconds = time.monotonic() - started
        return self.report

    # -- loading -----------------------------------------------------------------------

    def _load(self, ids: Sequence[int]) -> list[PackageWork]:
        with self.database.transaction() as session:
            packages = session.exec(
                select(Package.id, Package.key).where(col(Package.id).in_(ids))
            ).all()
            previous = {
                r.package_id: r
                for r in session.exec(
                    select(PackageResolution).where(col(PackageResolution.package_id).in_(ids))
                )
            }
            hints = inventory_hints(session, ids)
            versions = versions_in_use(session, ids)
            keys = [key for _id, key in packages]
            self._cache_rows.update(cache.load_keys(session, keys, PACKAGE_SOURCES))
            session.expunge_all()
        return [
            PackageWork.of(
                package_id, key, previous.get(package_id), versions.get(package_id), hints
            )
            for package_id, key in packages
        ]

    # -- the pipeline ------------------------------------------------------------------

    def _start(self, items: list[PackageWork]) -> None:
        by_source: dict[str, list[PackageWork]] = defaultdict(list)
        for item in items:
            source = item.registry
            provider = self.providers.get(source) if source else None
            if provider is None or not provider.supports(item.key):
                if isinstance(provider, OfflineProvider):
                    item.asked.append(source)
                    item.notes.append(source_note(source, "not_in_snapshot"))
                self._after_registry(item)
                continue
            by_source[source].append(item)
        # Round-robin over sources so every host is busy from the first moment.
        queues = [(source, list(reversed(q))) for source, q in by_source.items()]
        while queues:
            for turn in list(queues):
                source, waiting = turn
                self._ask(waiting.pop(), source, "registry")
                if not waiting:
                    queues.remove(turn)

    def _ask(self, item: PackageWork, source: str, stage: str) -> None:
        """Use the cache or ask `source` about the package; continue when answered."""
        provider = self.providers[source]
        entry = self._cache_rows.get((source, item.key))
        # "Again now" lifts the backoff of the packages' own registry, which the person
        # chose; deps.dev, ecosyste.ms and repositories keep theirs.
        retry_now = self.retry_now and stage == "registry"
        decision = cache.plan(entry, self.now, retry_now=retry_now)
        item.asked.append(source)
        if decision.action is Action.fresh:
            self._asked[(source, item.key)]["from_cache"] += 1
            self._use(item, source, stage, cache.metadata_of(entry), None)
            return
        if decision.action is Action.wait:
            self._use(item, source, stage, cache.metadata_of(entry), entry)
            return
        version = item.version if stage == "registry" else None
        self._fetch(
            (source, item.key),
            lambda: self._submit(
                ("package", (item, source, stage)),
                safe_fetch,
                provider,
                item.key,
                decision.cached,
                version,
            ),
            lambda row: self._use_stored(item, source, stage, row),
        )

    def _fetch(
        self,
        pair: tuple[str, str],
        ask: Callable[[], None],
        on_answer: Callable[[cache.CacheRow], None],
        *,
        batched: bool = False,
    ) -> None:
        """Ask the source once this run holds the pair's lease; while another run holds it,
        wait for the answer it stores instead. A snapshot sends nothing: asked at once."""
        if self._pool is None or isinstance(self.providers[pair[0]], OfflineProvider):
            ask()
            return
        self._gate.want(pair, self._cache_rows.get(pair), ask, on_answer, batched=batched)

    def _use_stored(self, item: PackageWork, source: str, stage: str, row: cache.CacheRow) -> None:
        """Another run's answer, as it stored it."""
        self._cache_rows[(source, item.key)] = row
        self._asked[(source, item.key)]["from_cache"] += 1
        item.changed = True
        self._use(item, source, stage, cache.metadata_of(row), row if row.status != "ok" else None)

    def _submit(self, tag: tuple[str, Any], fn: Callable[..., Any], *args: Any) -> None:
        if self._pool is None:  # offline: answered here and now, handled by _drain as ever
            future: Future = Future()
            try:
                future.set_result(fn(*args))
            except Exception as exc:
                future.set_exception(exc)
        else:
            future = self._pool.submit(fn, *args)
        self._pending[future] = tag
        future.add_done_callback(self._completed.put)

    def _use(
        self,
        item: PackageWork,
        source: str,
        stage: str,
        metadata: PackageMetadata | None,
        failed: cache.CacheRow | None,
    ) -> None:
        """Take one source's (cached or fresh) answer into the package's state."""
        if failed is not None and failed.status != "ok":
            item.notes.append(source_note(source, failed.error or "failed"))
            if failed.status == "error":
                item.transient = True
            retry = as_utc(failed.next_attempt_at)
            if retry and (item.retry_at is None or retry < item.retry_at):
                item.retry_at = retry
        if metadata is not None:
            repo = metadata.repository
            if repo is not None:
                item.links[stage] = repo
                item.link_source_name[stage] = source
        self._advance(item, stage)

    def _on_package_result(
        self, item: PackageWork, source: str, stage: str, result: ProviderResult
    ):
        entry = cache.apply_result(
            self._cache_rows.get((source, item.key)), result, self.now, self.ttl
        )
        self._remember(entry)
        if result.metadata is not None and not result.not_modified:
            item.changed = True
        blocked = False
        for warning in result.warnings:
            if "blocked" in warning:
                blocked = True
                item.notes.append(f"{source}: {warning} (refused, not fetched)")
        # A snapshot answers offline: nothing went to the registry.
        if not blocked and not isinstance(self.providers[source], OfflineProvider):
            counts = self._asked[(source, item.key)]
            counts["sent"] += 1
            counts["not_modified"] += int(result.not_modified)
        # A failure keeps the last good answer: a stale link beats none.
        failed = entry if entry.status != "ok" else None
        self._use(item, source, stage, cache.metadata_of(entry), failed)

    def _advance(self, item: PackageWork, stage: str) -> None:
        """After a stage: finish when a repository is known, else try the next source."""
        if stage == "registry":
            self._after_registry(item)
        elif stage == "depsdev":
            self._after_depsdev(item)
        else:
            self._finish(item)

    def _after_registry(self, item: PackageWork) -> None:
        # Only "no link" sends the package on to deps.dev and ecosyste.ms: a registry that
        # failed for now is asked again later, not answered for by the fallbacks.
        if item.best_link()[0] is not None or item.transient:
            self._finish(item)
            return
        provider = self.providers.get("depsdev")
        if provider is not None and provider.supports(item.key):
            self._ask(item, "depsdev", "depsdev")
            return
        self._after_depsdev(item)

    def _after_depsdev(self, item: PackageWork) -> None:
        if item.best_link()[0] is not None:
            self._finish(item)
            return
        provider = self.providers.get("ecosystems")
        if provider is None or not provider.supports(item.key):
            self._finish(item)
            return
        entry = self._cache_rows.get(("ecosystems", item.key))
        decision = cache.plan(entry, self.now)
        item.asked.append("ecosystems")
        if decision.action is not Action.fetch:
            failed = entry if decision.action is Action.wait else None
            self._use(item, "ecosystems", "ecosystems", cache.metadata_of(entry), failed)
            return
        self._fetch(
            ("ecosystems", item.key),
            lambda: self._queue_ecosystems(item, "ecosystems"),
            lambda row: self._use_stored(item, "ecosystems", "ecosystems", row),
            batched=True,
        )

    def _queue_ecosystems(self, item: PackageWork, kind: str) -> None:
        self._batches.add(item, kind)
        if self._batches.full:
            self._submit_ecosystems(idle=False)

    def _submit_ecosystems(self, *, idle: bool) -> None:
        batch = self._batches.take(idle=idle)
        if batch is None:
            return
        self._take_others_rows("ecosystems", batch)
        self._submit(("ecosystems", batch), safe_batch, self.providers["ecosystems"], batch.keys)

    def _take_others_rows(self, source: str, batch: Batch) -> None:
        for key, row in batch.others.items():  # other runs' lookups taken into this batch
            if row is not None:
                self._cache_rows[(source, key)] = row

    def _store_for_others(self, batch: Batch, results: Mapping[str, ProviderResult]) -> None:
        for key in batch.others:  # stored for the runs that queued them, which wait for it
            self._remember(cache.apply_result(batch.others[key], results[key], self.now, self.ttl))

    def _ask_signals(self, item: PackageWork) -> None:
        """ecosyste.ms for a linked package's dependents, downloads, advisories and people
        (RubyGems names its owners nowhere else in the gem's document): batched, and its
        link never counts here."""
        provider = self.providers.get("ecosystems")
        if provider is None or "ecosystems" in item.asked or not provider.supports(item.key):
            return
        entry = self._cache_rows.get(("ecosystems", item.key))
        if cache.plan(entry, self.now).action is not Action.fetch:
            return
        repo = item.best_link()[0]
        self._fetch(
            ("ecosystems", item.key),
            lambda: self._queue_ecosystems(item, "signals"),
            lambda row: self._touched_projects.add(repo.key) if repo else None,
            batched=True,
        )

    def _finish(self, item: PackageWork) -> None:
        if item.done:
            return
        item.done = True
        self._finished.append(item)
        repo, _source = item.best_link()
        if repo is not None:
            previous = item.previous
            if item.changed or previous is None or previous.status != "resolved":
                self._touched_projects.add(repo.key)
            self._ask_repository(repo)
            self._ask_signals(item)
        for linked, _notes in item.company_links.values():
            if linked is not None:
                self._touched_projects.add(linked.key)
                self._ask_repository(linked)
        if len(self._finished) >= FLUSH_EVERY:
            self._flush()

    def _ask_repository(self, repo: RepoRef) -> None:
        if repo.key in self._repos_seen:
            return
        self._repos_seen.add(repo.key)
        provider = self.providers.get("github")
        if provider is None or repo.host != self.github_host or "/" in repo.owner:
            return
        key = f"pkg:github/{repo.owner}/{repo.name}"
        if ("github", key) not in self._cache_rows:
            with self.database.transaction() as session:
                self._cache_rows.update(cache.load(session, [("github", key)]))
                session.expunge_all()
        entry = self._cache_rows.get(("github", key))
        decision = cache.plan(entry, self.now)
        if decision.action is not Action.fetch:
            return

        batches = getattr(provider, "batches", False)

        def ask() -> None:
            if batches:
                self._repo_batches.add(RepositoryLookup(key, repo), "repository")
                if self._repo_batches.full:
                    self._submit_repositories(idle=False)
                return
            self._submit(("repository", (repo, key)), safe_fetch, provider, key, decision.cached)

        def on_answer(row: cache.CacheRow) -> None:
            self._cache_rows[("github", key)] = row
            self._touched_projects.add(repo.key)

        self._fetch(("github", key), ask, on_answer, batched=batches)

    def _submit_repositories(self, *, idle: bool) -> None:
        batch = self._repo_batches.take(idle=idle)
        if batch is not None:
            self._take_others_rows("github", batch)
            self._submit(("repositories", batch), safe_batch, self.providers["github"], batch.keys)

    def _drain(self) -> None:
        """Handle answers as they arrive (on this thread) until nothing is left to ask."""
        while True:
            self._gate.step(idle=not self._pending)
            if not self._pending:
                self._submit_ecosystems(idle=True)
                self._submit_repositories(idle=True)
                if self._pending:
                    continue
                if not (self._gate.busy or self._batches.queued or self._repo_batches.queued):
                    return
                self._flush()  # what others may wait for, while this run waits for theirs
                self._gate.pause()
                continue
            try:
                future = self._completed.get(timeout=self._gate.poll)
            except queue.Empty:
                continue
            kind, payload = self._pending.pop(future)
            result = future.result()
            if kind == "package":
                item, source, stage = payload
                self._on_package_result(item, source, stage, result)
            elif kind == "ecosystems":
                self._on_batch_result(payload, result)
            elif kind == "repositories":
                for lookup, _kind in payload.items:
                    self._on_repository_result(lookup.repo, lookup.key, result[lookup.key])
                self._store_for_others(payload, result)
            else:
                repo, key = payload
                self._on_repository_result(repo, key, result)

    def _on_batch_result(self, batch: Batch, results: Mapping[str, ProviderResult]) -> None:
        for item, kind in batch.items:
            if kind == "ecosystems":
                self._on_package_result(item, "ecosystems", "ecosystems", results[item.key])
            else:
                self._on_signals_result(item, results[item.key])
        self._store_for_others(batch, results)
        for key in batch.others:  # packages' requests are counted (repositories' are not)
            self._asked[("ecosystems", key)]["sent"] += 1

    def _on_signals_result(self, item: PackageWork, result: ProviderResult) -> None:
        self._remember(
            cache.apply_result(
                self._cache_rows.get(("ecosystems", item.key)), result, self.now, self.ttl
            )
        )
        repo = item.best_link()[0]
        if repo is not None and result.metadata is not None and not result.not_modified:
            self._touched_projects.add(repo.key)

    def _on_repository_result(self, repo: RepoRef, key: str, result: ProviderResult) -> None:
        entry = cache.apply_result(
            self._cache_rows.get(("github", key)), result, self.now, self.ttl
        )
        self._remember(entry)
        self.report.repositories += 1
        if not result.not_modified:
            self._touched_projects.add(repo.key)
        retry = as_utc(entry.next_attempt_at)
        if entry.status == "error" and retry is not None:
            self._repo_retries[repo.key] = retry
            self.report.failures.append((key, source_note("github", entry.error or "")))

    def _remember(self, entry: cache.CacheRow) -> None:
        pair = (entry.source, entry.key)
        self._cache_rows[pair] = entry
        self._dirty_cache[pair] = entry

    # -- writing -----------------------------------------------------------------------

    def _flush(self) -> None:
        finished, self._finished = self._finished, []
        dirty, self._dirty_cache = self._dirty_cache, {}
        if not finished and not dirty and not self._asked:
            return
        asked, self._asked = self._asked, defaultdict(lambda: defaultdict(int))
        with self.database.transaction() as session:
            self._record_requests(session)
            add_package_requests(session, current_period(self.now), asked)
            upsert_cache(session, list(dirty.values()))
            self._gate.give_back(session, list(dirty))
            links = {repo.key: repo for item in finished for repo in [item.best_link()[0]] if repo}
            links.update(
                (repo.key, repo)
                for item in finished
                for repo, _notes in item.company_links.values()
                if repo
            )
            self._projects.update(
                ensure_projects(session, links.values(), self.github_host, self.now)
            )
            results = [outcome(item, self.now, self.ttl) for item in finished]
            for item, result in zip(finished, results, strict=True):
                self.report.count(item.key, result)
            rows = resolution_rows(finished, results, self._projects, self.now)
            upsert_resolutions(session, rows)
            replace_company_links(
                session,
                [item.id for item in finished],
                company_link_rows(finished, self._projects, self.now),
            )
        for item, row in zip(finished, rows, strict=True):
            repo = item.best_link()[0]
            previous = item.previous
            if repo is not None and (previous is None or previous.project_id != row["project_id"]):
                self._touched_projects.add(repo.key)
        # Recompute what is known about the projects touched so far while fetches go on;
        # a project touched again later (its repository answered) is recomputed again.
        self._refresh_projects()
        if finished and self.progress is not None:
            self.progress(len(finished))

    def _record_requests(self, session: Session) -> None:
        if self._sent is None:
            return
        now = dict(self._sent())
        delta = {k: v - self._recorded.get(k, 0) for k, v in now.items()}
        delta = {k: v for k, v in delta.items() if v > 0}
        record_usage(session, delta, self.now.date())
        self._recorded = now
        for source, count in delta.items():
            self.report.requests[source] = self.report.requests.get(source, 0) + count

    def _retry_repositories(self) -> None:
        """Packages of a repository that failed for now are due again when it may be asked
        again (the same backoff as packages), not only after the TTL."""
        if not self._repo_retries:
            return
        with self.database.transaction() as session:
            for repo_key, retry in sorted(self._repo_retries.items()):
                retry_project_by(session, repo_key, retry)
                self.report.retry_by(retry)

    def _refresh_projects(self) -> None:
        keys = sorted(self._touched_projects)
        self._touched_projects = set()
        self._refreshed.update(keys)
        self.report.projects = len(self._refreshed)
        for chunk in cache._chunks(keys, 300):
            with self.database.transaction() as session:
                ids = session.exec(select(Project.id).where(col(Project.key).in_(chunk))).all()
                refresh_project_data(session, list(ids), self.now)
