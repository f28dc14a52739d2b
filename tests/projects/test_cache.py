"""The shared metadata cache, proven by counting requests: nothing within the TTL, only
conditional requests after it, one row per package per source whichever company asks."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from service.projects import cache, services
from service.projects.models import MetadataCacheEntry, OutboundUsage
from service.projects.providers import PackageMetadata, ProviderResult
from tests.factories import make_company
from tests.projects.conftest import NOW, component, store_sbom
from tests.projects.test_resolution import drain, resolutions

PACKAGES = [
    component("pkg:pypi/requests@2.32.3"),
    component("pkg:npm/%40babel/core@7.24.7"),
    component("pkg:cargo/serde@1.0.203"),
    component("pkg:maven/org.apache.commons/commons-lang3@3.14.0"),
]


def resolve_all(app, session, now):
    database = app.extensions["tributary.db"]
    with app.app_context():
        ids = services.due_package_ids(session, now, include_fresh=True)
        return services.run_resolution(database, ids, now=now)


def test_within_the_ttl_nothing_is_sent_after_it_only_conditional_requests(
    app, session, providers, registries
):
    company = make_company(session)
    store_sbom(session, company, PACKAGES)
    drain(app)
    first = registries.counts()
    # One request per package per source: Maven reads the POM of the version in use,
    # crates take their people from the versions' publishers.
    assert first["pypi"] == 1 and first["npm"] == 1
    assert first["crates"] == 1 and first["maven"] == 1
    assert "/3.14.0/commons-lang3-3.14.0.pom" in " ".join(p for _, _, p in registries.app.requests)

    registries.app.reset_counts()
    report = resolve_all(app, session, NOW + timedelta(days=6))
    assert report.packages == 4 and report.resolved == 4
    assert registries.counts() == {} and report.requests == {}

    registries.app.reset_counts()
    report = resolve_all(app, session, NOW + timedelta(days=8))
    assert report.resolved == 4
    # One conditional request per package, each answered 304; ecosyste.ms: one batch for
    # the signals of all four packages; GitHub (with a token): one GraphQL query for the
    # four repositories.
    assert registries.counts() == {
        "pypi": 1,
        "npm": 1,
        "crates": 1,
        "maven": 1,
        "ecosystems": 1,
        "github": 1,
    }
    # The two batch lookups are POSTs, answered whole; the others 304.
    assert registries.app.statuses() == {304: 4, 200: 2}
    assert all(
        "if-none-match" in headers or "if-modified-since" in headers
        for (source, _method, _path), headers in zip(
            registries.app.requests, registries.app.request_headers, strict=True
        )
        if source not in ("ecosystems", "github")
    )
    entry = session.exec(
        select(MetadataCacheEntry).where(
            MetadataCacheEntry.key == "pkg:pypi/requests", MetadataCacheEntry.source == "pypi"
        )
    ).one()
    session.refresh(entry)
    assert entry.expires_at == NOW + timedelta(days=15)
    assert entry.data["repository_url"] == "https://github.com/psf/requests"
    # Operators see the load per source.
    with app.app_context():
        usage = services.usage(session, NOW.date())
    assert usage["pypi"] == 2 and usage["github"] == first["github"] + 1
    assert len(session.exec(select(OutboundUsage)).all()) == 12  # per source and day


def test_one_row_per_package_and_source_shared_by_every_company(
    app, session, providers, registries
):
    first, second = make_company(session), make_company(session)
    store_sbom(session, first, PACKAGES[:1])
    drain(app)
    # The repository in one GraphQL query (facts, funding files, commit authors);
    # ecosyste.ms for the package's signals.
    assert registries.counts() == {"pypi": 1, "ecosystems": 1, "github": 1}
    registries.app.reset_counts()
    store_sbom(session, second, PACKAGES[:1], product="other")
    drain(app)
    assert registries.counts() == {}
    assert len(session.exec(select(MetadataCacheEntry)).all()) == 3  # pypi, ecosyste.ms, github


def test_plan_and_apply_rules():
    ttl = timedelta(days=7)
    assert cache.plan(None, NOW).action is cache.Action.fetch
    ok = cache.apply_result(
        None,
        ProviderResult("npm", "pkg:npm/x", metadata=PackageMetadata(), etag='"v1"', fetched_at=NOW),
        NOW,
        ttl,
    )
    assert cache.plan(ok, NOW + timedelta(days=1)).action is cache.Action.fresh
    stale = cache.plan(ok, NOW + timedelta(days=8))
    assert stale.action is cache.Action.fetch and stale.cached.etag == '"v1"'
    failed = cache.apply_result(ok, ProviderResult("npm", "pkg:npm/x", error="timeout"), NOW, ttl)
    assert failed.data is not None  # the last good answer survives a failure
    assert [failed.attempts, failed.next_attempt_at] == [1, NOW + timedelta(minutes=15)]
    assert cache.plan(failed, NOW + timedelta(minutes=1)).action is cache.Action.wait
    assert cache.plan(failed, NOW + timedelta(minutes=1), retry_now=True).action is (
        cache.Action.fetch
    )
    again = cache.apply_result(
        failed, ProviderResult("npm", "pkg:npm/x", error="timeout"), NOW, ttl
    )
    assert again.next_attempt_at == NOW + timedelta(minutes=30)
    assert cache.backoff(20, not_found=False, ttl=ttl) == ttl


def test_stale_answer_is_used_while_its_source_fails(app, session, providers, registries):
    company = make_company(session)
    store_sbom(session, company, PACKAGES[:1])
    drain(app)
    registries.app.add_fault("pypi", status=503, times=5)
    registries.app.reset_counts()
    report = resolve_all(app, session, NOW + timedelta(days=9))
    assert report.resolved == 1
    status, source, reason, project = resolutions(session)["pkg:pypi/requests"]
    assert (status, source, project) == ("resolved", "pypi", "github.com/psf/requests")
    assert reason == "pypi: http_503"


def test_maven_reads_the_pom_of_the_newest_upload_s_version(app, session, providers, registries):
    company = make_company(session)
    store_sbom(session, company, [component("pkg:maven/org.apache.commons/commons-lang3@3.12.0")])
    store_sbom(session, company, [component("pkg:maven/org.apache.commons/commons-lang3@3.13.0")])
    registries.app.reset_counts()
    resolve_all(app, session, NOW)
    poms = [p for source, _, p in registries.app.requests if source == "maven"]
    assert poms == ["/maven/org/apache/commons/commons-lang3/3.13.0/commons-lang3-3.13.0.pom"]
