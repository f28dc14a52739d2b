"""Every metadata provider against the fake registries: shapes, failures, caching, offline."""

from __future__ import annotations

import io
import json
import threading
from datetime import UTC, datetime

import pytest
from sqlmodel import select

from service.core.http import OutboundClient
from service.db import Database
from service.projects.models import FetchLease
from service.projects.parent_poms import StoredParentPoms
from service.projects.providers import (
    SOURCES,
    CachedEntry,
    PackageMetadata,
    Person,
    ProviderResult,
    SnapshotRecord,
    build_providers,
    default_base_urls,
    dump_snapshot,
    github_graphql,
    load_snapshot,
)
from service.projects.providers.base import parse_package_key, parse_time
from service.projects.providers.depsdev import pick_source_repo
from service.projects.providers.golang import GoProvider, escape_module_path, parse_go_import
from service.projects.providers.offline import OfflineProvider, SnapshotError, iter_snapshot
from tests.fakes.registries import (
    FakePackage,
    FakeRegistries,
    FakeRepo,
    Fault,
    sample_catalogue,
    start_fake_registries,
    synthetic_catalogue,
)

FIXED_NOW = datetime(2024, 7, 1, tzinfo=UTC)
NAMES = {"internal.corp": ["10.0.0.5"]}


def resolver(host: str) -> list[str]:
    """Tests never use real DNS: unknown names fail to resolve."""
    if host in NAMES:
        return NAMES[host]
    raise OSError(f"no DNS in tests for {host}")


def extra_packages() -> tuple[list[FakePackage], list[FakeRepo]]:
    packages, repos = sample_catalogue()
    packages += [
        FakePackage(
            "golang",
            "go.example.org/tool",
            "v0.3.0",
            repo="github.com/example/tool",
            go_origin=False,
            maintainers=[],
        ),
        FakePackage("golang", "internal.corp/secret", "v1.0.0", repo=None, maintainers=[]),
        FakePackage(
            "pypi",
            "evil-links",
            "0.1",
            repo="10.0.0.1/owner/name",
            homepage="javascript:alert(1)",
        ),
        FakePackage("pypi", "no-repo", "1.0", repo=None, maintainers=[]),
        FakePackage(
            "cargo",
            "old-crate",
            "0.2.1",
            repo="github.com/example/old-crate",
            maintainers=["bob", "carol"],
            publishers_recorded=False,
        ),
    ]
    return packages, repos


@pytest.fixture(scope="module")
def fake_server():
    packages, repos = extra_packages()
    with start_fake_registries(packages=packages, repos=repos) as running:
        yield running


@pytest.fixture
def fake(fake_server):
    """The shared fake, with counters, faults and rate limits reset for each test."""
    fake_server.app.reset_counts()
    fake_server.app.clear_faults()
    fake_server.app.github_rate_limit = None
    yield fake_server
    fake_server.app.clear_faults()
    fake_server.app.github_rate_limit = None


@pytest.fixture
def sleeps() -> list[float]:
    return []


def make_client(sleeps: list[float], **kwargs) -> OutboundClient:
    kwargs.setdefault("max_retries", 2)
    kwargs.setdefault("read_timeout", 2.0)
    return OutboundClient(
        allow_hosts=["127.0.0.1"],
        resolver=resolver,
        trust_env=False,
        sleep=sleeps.append,
        version="test",
        **kwargs,
    )


@pytest.fixture
def client(sleeps):
    with make_client(sleeps) as outbound:
        yield outbound


def providers_for(client, fake, **kwargs):
    return build_providers(
        client,
        base_urls=fake.base_urls,
        go_vanity_url=fake.go_vanity_url,
        github_token="ghp_testtoken",
        now=lambda: FIXED_NOW,
        **kwargs,
    )


@pytest.fixture
def providers(client, fake):
    return providers_for(client, fake)


def fetch_ok(provider, key, **kwargs) -> PackageMetadata:
    result = provider.fetch(key, **kwargs)
    assert result.error is None, result
    assert result.metadata is not None
    return result.metadata


# --- registries ----------------------------------------------------------------------


def test_pypi(providers, fake):
    result = providers["pypi"].fetch("pkg:pypi/requests")
    meta = result.metadata
    assert result.ok and result.etag and result.last_modified
    assert result.fetched_at == FIXED_NOW
    assert meta.repository_url == "https://github.com/psf/requests"
    assert meta.repository_provenance == "metadata"
    assert meta.homepage == "https://requests.readthedocs.io"
    owners = [(p.login, p.role) for p in meta.maintainers if p.login]
    assert owners == [("nateprewitt", "owner"), ("graffatcolmingov", "maintainer")]
    assert meta.publishers_count == 2
    assert [(c.kind, c.handle_or_url) for c in meta.funding] == [("open_collective", "psf")]
    assert meta.latest_version == "2.32.3" and meta.release_count == 3
    assert meta.latest_release_at == datetime(2024, 5, 29, 15, 37, 47, 123456, tzinfo=UTC)
    assert meta.raw_source_url.endswith("/pypi/pypi/requests/json")
    assert fake.counts() == {"pypi": 1}


def test_pypi_package_without_repository(providers):
    meta = fetch_ok(providers["pypi"], "pkg:pypi/no-repo")
    assert meta.repository_url is None and meta.repository_provenance is None
    assert meta.publishers_count == 0


@pytest.mark.parametrize(
    ("document", "deprecated", "archived"),
    [
        ({"info": {"classifiers": ["Programming Language :: Python"]}}, False, None),
        ({"info": {"classifiers": ["Development Status :: 7 - Inactive"]}}, True, None),
        ({"info": {"yanked": True}}, True, None),
        ({"info": {}, "project-status": {"status": "deprecated"}}, True, None),
        ({"info": {}, "project-status": {"status": "archived"}}, False, True),
        ({"info": {}, "project-status": {"status": "active"}}, False, None),
    ],
)
def test_pypi_says_whether_a_project_is_deprecated(providers, document, deprecated, archived):
    meta = providers["pypi"].parse(document)
    assert (meta.deprecated, meta.archived) == (deprecated, archived)


def test_untrusted_repository_and_homepage_urls_are_dropped(providers, fake):
    meta = fetch_ok(providers["pypi"], "pkg:pypi/evil-links")
    assert meta.repository_url is None
    assert meta.homepage is None
    assert fake.counts() == {"pypi": 1}


def test_npm_scoped_package(providers, fake):
    meta = fetch_ok(providers["npm"], "pkg:npm/%40babel/core")
    assert meta.repository_url == "https://github.com/babel/babel"
    assert {p.login for p in meta.maintainers} == {"nicolo-ribaudo", "jlhwung", "existentialism"}
    assert meta.publishers_count == 3
    assert [(c.kind, c.handle_or_url) for c in meta.funding] == [("open_collective", "babel")]
    assert meta.deprecated is False
    assert meta.latest_release_at == datetime(2024, 6, 5, 13, 15, 24, tzinfo=UTC)
    assert fake.app.requests[-1][2] == "/npm/@babel%2Fcore"


def test_npm_deprecated_with_shorthand_repository(providers):
    meta = fetch_ok(providers["npm"], "pkg:npm/left-pad")
    assert meta.deprecated is True
    assert meta.repository_url == "https://github.com/left-pad/left-pad"


def test_npm_huge_packument_falls_back_to_latest(sleeps, fake):
    fake.app.add_fault("npm", kind="huge", size=300_000, match="%2Fcore")
    with make_client(sleeps, max_bytes=100_000) as small:
        result = providers_for(small, fake)["npm"].fetch("pkg:npm/%40babel/core")
    assert result.ok and result.warnings == ("packument too large",)
    assert result.metadata.repository_url == "https://github.com/babel/babel"
    assert result.metadata.latest_version == "7.24.7"
    assert [r[2] for r in fake.app.requests] == ["/npm/@babel%2Fcore", "/npm/@babel%2Fcore/latest"]


def test_crates_people_are_the_publishers_of_its_versions(providers, fake):
    meta = fetch_ok(providers["crates"], "pkg:cargo/serde")
    assert meta.repository_url == "https://github.com/serde-rs/serde"
    assert [(p.login, p.role) for p in meta.maintainers] == [("dtolnay", "publisher")]
    assert meta.publishers_count == 1
    assert (meta.downloads, meta.downloads_period) == (40_000_000, "90d")
    assert meta.release_count == 2 and meta.latest_version == "1.0.203"
    assert fake.counts() == {"crates": 1}  # one document: no /owners request


def test_crates_without_recorded_publishers_reads_the_owners(providers, fake):
    meta = fetch_ok(providers["crates"], "pkg:cargo/old-crate")
    assert [(p.login, p.role) for p in meta.maintainers] == [("bob", "owner"), ("carol", "owner")]
    assert meta.publishers_count == 2
    assert fake.counts() == {"crates": 2}


def test_crates_owner_failure_is_a_warning_not_an_error(providers, fake):
    fake.app.add_fault("crates", status=500, times=5, match="/owners")
    result = providers["crates"].fetch("pkg:cargo/old-crate")
    assert result.ok and result.warnings == ("owners: http_500",)
    assert result.metadata.publishers_count is None
    assert result.metadata.repository_url == "https://github.com/example/old-crate"


def test_rubygems_reads_one_document_per_gem(providers, fake):
    meta = fetch_ok(providers["rubygems"], "pkg:gem/rails")
    assert meta.repository_url == "https://github.com/rails/rails"
    assert [(c.kind, c.handle_or_url) for c in meta.funding] == [("github_sponsors", "rails")]
    # Who can publish is in owners.json, one more request per gem: ecosyste.ms says it.
    assert meta.publishers_count is None
    assert {p.role for p in meta.maintainers} == {"author"}
    assert meta.latest_release_at == datetime(2024, 6, 4, tzinfo=UTC)
    assert fake.counts() == {"rubygems": 1}


def test_maven_scm_connection_when_scm_url_has_unresolved_properties(providers, fake):
    meta = fetch_ok(providers["maven"], "pkg:maven/org.apache.commons/commons-lang3")
    assert meta.repository_url == "https://github.com/apache/commons-lang"
    assert meta.latest_version == "3.14.0" and meta.release_count == 3
    assert meta.latest_release_at == datetime(2023, 11, 18, tzinfo=UTC)
    assert {p.login for p in meta.maintainers} == {"bayard", "ggregory"}
    assert fake.counts() == {"maven": 2}


def test_maven_reads_only_the_pom_of_the_version_in_use(providers, fake):
    maven = providers["maven"]
    result = maven.fetch("pkg:maven/org.apache.commons/commons-lang3", version="3.13.0")
    meta = result.metadata
    assert meta.repository_url == "https://github.com/apache/commons-lang"
    assert {p.login for p in meta.maintainers} == {"bayard", "ggregory"}
    assert meta.latest_version is None  # a version's POM does not say which is latest
    assert [r[2] for r in fake.app.requests] == [
        "/maven/org/apache/commons/commons-lang3/3.13.0/commons-lang3-3.13.0.pom"
    ]

    # Refreshing the same version is conditional; another version's POM is not.
    cached = CachedEntry(etag=result.etag, last_modified=result.last_modified, metadata=meta)
    fake.app.reset_counts()
    again = maven.fetch(
        "pkg:maven/org.apache.commons/commons-lang3", cached=cached, version="3.13.0"
    )
    assert again.not_modified and again.metadata == meta
    newer = maven.fetch(
        "pkg:maven/org.apache.commons/commons-lang3", cached=cached, version="3.14.0"
    )
    assert not newer.not_modified and newer.metadata.raw_source_url.endswith("-3.14.0.pom")
    assert fake.app.statuses() == {304: 1, 200: 1}


def test_maven_version_the_repository_lacks_falls_back_to_the_latest(providers, fake):
    result = providers["maven"].fetch(
        "pkg:maven/org.apache.commons/commons-lang3", version="3.99.0-internal"
    )
    assert result.ok and result.metadata.latest_version == "3.14.0"
    assert [r[2].rsplit("/", 1)[-1] for r in fake.app.requests] == [
        "commons-lang3-3.99.0-internal.pom",
        "maven-metadata.xml",
        "commons-lang3-3.14.0.pom",
    ]


def test_maven_follows_parent_pom_of_the_same_group(providers, fake):
    meta = fetch_ok(providers["maven"], "pkg:maven/com.example.multi/multi-core")
    assert meta.repository_url == "https://github.com/example/multi"
    assert fake.counts() == {"maven": 3}


def test_a_parent_pom_is_read_once_for_every_child_that_climbs_to_it(providers, fake):
    for version in ("2.0.0", "2.0.0"):
        result = providers["maven"].fetch("pkg:maven/com.example.multi/multi-core", version=version)
        assert result.metadata.repository_url == "https://github.com/example/multi"
    poms = [path.rsplit("/", 1)[-1] for _source, _method, path in fake.app.requests]
    assert poms == ["multi-core-2.0.0.pom", "multi-core-parent-2.0.0.pom", "multi-core-2.0.0.pom"]


def test_a_parent_pom_one_process_read_is_not_asked_again_by_another(client, fake, tmp_path):
    database = Database(f"sqlite:///{tmp_path}/poms.db")
    database.upgrade()
    stored = StoredParentPoms(database)
    for _process in range(2):  # each with its own providers (and memory)
        maven = providers_for(client, fake, maven_parents=stored)["maven"]
        result = maven.fetch("pkg:maven/com.example.multi/multi-core", version="2.0.0")
        assert result.metadata.repository_url == "https://github.com/example/multi"
    poms = [path.rsplit("/", 1)[-1] for _source, _method, path in fake.app.requests]
    assert poms == ["multi-core-2.0.0.pom", "multi-core-parent-2.0.0.pom", "multi-core-2.0.0.pom"]
    database.engine.dispose()


def test_threads_and_processes_climbing_to_one_parent_at_once_ask_it_once(
    client, fake, own_database, monkeypatch
):
    monkeypatch.setattr(fake.app, "latency", 0.05)  # the climbs overlap
    databases = [Database(own_database) for _process in range(2)]
    makers = [providers_for(client, fake, maven_parents=StoredParentPoms(db)) for db in databases]
    climbers = [makers[0]["maven"], makers[0]["maven"], makers[1]["maven"]]  # 2 threads, 1
    start = threading.Barrier(len(climbers))
    urls: list[str | None] = []

    def climb(maven) -> None:
        start.wait()
        result = maven.fetch("pkg:maven/com.example.multi/multi-core", version="2.0.0")
        urls.append(result.metadata.repository_url if result.metadata else result.error)

    threads = [threading.Thread(target=climb, args=(maven,)) for maven in climbers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for database in databases:
        database.engine.dispose()
    assert urls == ["https://github.com/example/multi"] * 3
    poms = sorted(path.rsplit("/", 1)[-1] for _source, _method, path in fake.app.requests)
    assert poms == ["multi-core-2.0.0.pom"] * 3 + ["multi-core-parent-2.0.0.pom"]


def test_a_parent_pom_is_leased_by_the_one_who_asks_until_it_stores_or_fails(tmp_path):
    database = Database(f"sqlite:///{tmp_path}/poms.db")
    database.upgrade()
    one, other = StoredParentPoms(database), StoredParentPoms(database)
    coordinates = "com.example:parent:1.0"

    def holders() -> list[str]:
        with database.transaction() as session:
            return list(session.exec(select(FetchLease.holder)))

    assert one.get(coordinates) is None and holders() == [one.holder]
    one.drop(coordinates)  # its request failed: the next one may ask
    assert other.get(coordinates) is None and holders() == [other.holder]
    other.put(coordinates, b"<project/>")
    assert one.get(coordinates) == b"<project/>" and holders() == []
    database.engine.dispose()


def test_maven_xml_with_entities_is_refused(providers, fake):
    xxe = (
        b'<?xml version="1.0"?><!DOCTYPE m [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b"<metadata><versioning><release>&x;</release></versioning></metadata>"
    )
    fake.app.add_fault("maven", status=200, body=xxe, headers={"Content-Type": "text/xml"})
    result = providers["maven"].fetch("pkg:maven/org.apache.commons/commons-lang3")
    assert result.error == "invalid_xml" and result.metadata is None


def test_maven_key_without_group_is_refused(providers, fake):
    assert providers["maven"].fetch("pkg:maven/commons-lang3").error == "invalid_package_key"
    assert fake.counts() == {}


def test_nuget(providers, fake):
    meta = fetch_ok(providers["nuget"], "pkg:nuget/Newtonsoft.Json")
    assert meta.repository_url == "https://github.com/jamesnk/newtonsoft.json"
    assert [p.login for p in meta.maintainers if p.role == "owner"] == ["jamesnk", "newtonsoft"]
    assert meta.publishers_count == 2
    assert meta.advisories == 1 and meta.deprecated is False
    assert meta.homepage == "https://www.newtonsoft.com/json"
    assert meta.latest_version == "13.0.3" and meta.release_count == 2
    assert fake.counts() == {"nuget": 3}


def test_nuget_search_failure_is_a_warning(providers, fake):
    fake.app.add_fault("nuget", status=503, times=3, match="/query")
    result = providers["nuget"].fetch("pkg:nuget/Newtonsoft.Json")
    assert result.ok and result.warnings == ("search: http_503",)
    assert result.metadata.publishers_count is None
    assert result.metadata.repository_url == "https://github.com/jamesnk/newtonsoft.json"


def test_go_github_module_resolves_from_its_path(providers):
    meta = fetch_ok(providers["go"], "pkg:golang/github.com/spf13/cobra")
    assert meta.repository_url == "https://github.com/spf13/cobra"
    assert meta.repository_provenance == "purl"
    assert meta.latest_version == "v1.8.0"


def test_go_github_module_still_resolves_when_the_proxy_is_down(providers, fake):
    fake.app.add_fault("go", status=502, times=3)
    result = providers["go"].fetch("pkg:golang/github.com/spf13/cobra")
    assert result.ok and result.warnings == ("proxy: http_502",)
    assert result.metadata.repository_url == "https://github.com/spf13/cobra"


def test_go_vanity_module_through_the_proxy_origin(providers):
    meta = fetch_ok(providers["go"], "pkg:golang/go.uber.org/zap")
    assert meta.repository_url == "https://github.com/uber-go/zap"
    assert meta.repository_provenance == "go_origin"


def test_go_vanity_module_through_go_get_meta(providers, fake):
    meta = fetch_ok(providers["go"], "pkg:golang/go.example.org/tool")
    assert meta.repository_url == "https://github.com/example/tool"
    assert fake.counts() == {"go": 1, "govanity": 1}


def test_go_vanity_lookup_never_reaches_private_addresses(client, fake):
    go = build_providers(client, base_urls=fake.base_urls, enabled=["go"])["go"]
    result = go.fetch("pkg:golang/internal.corp/secret")
    assert result.ok and result.metadata.repository_url is None
    assert result.warnings == ("go-get: blocked_address",)
    assert fake.counts() == {"go": 1}


def test_go_helpers():
    assert escape_module_path("github.com/Azure/azure-sdk") == "github.com/!azure/azure-sdk"
    html = (
        '<html><head><meta name="go-import" content="example.org/a mod https://proxy.example">'
        '<meta name="go-import" content="example.org/a git https://github.com/ex/a">'
        "</head></html>"
    )
    assert parse_go_import(html, "example.org/a/sub") == "https://github.com/ex/a"
    assert parse_go_import(html, "example.org/other") is None
    assert parse_go_import("<meta name=go-import content='broken'>", "x/y") is None
    direct = GoProvider.direct_repo
    assert direct("github.com/Foo/Bar/v2").key == "github.com/foo/bar"
    assert direct("gopkg.in/yaml.v3").key == "github.com/go-yaml/yaml"
    assert direct("gopkg.in/check.v1").key == "github.com/go-check/check"
    assert direct("gopkg.in/natefinch/lumberjack.v2").key == "github.com/natefinch/lumberjack"
    assert direct("golang.org/x/net") is None


def test_depsdev_prefers_attested_source_repo(providers, fake):
    meta = fetch_ok(providers["depsdev"], "pkg:npm/%40babel/core")
    assert meta.repository_url == "https://github.com/babel/babel"
    assert meta.repository_provenance == "attested"
    assert meta.scorecard["overall"] == 6.4
    assert meta.scorecard["maintained"] == 10
    assert meta.scorecard["checks"]["Code-Review"] == 8
    assert meta.release_count == 2 and meta.advisories == 0
    paths = [r[2] for r in fake.app.requests]
    assert paths == [
        "/depsdev/v3/systems/npm/packages/%40babel%2Fcore",
        "/depsdev/v3/systems/npm/packages/%40babel%2Fcore/versions/7.24.7",
        "/depsdev/v3/projects/github.com%2Fbabel%2Fbabel",
    ]


def test_depsdev_maven_and_advisories(providers):
    meta = fetch_ok(providers["depsdev"], "pkg:nuget/Newtonsoft.Json")
    assert meta.advisories == 1
    assert meta.repository_provenance == "metadata"
    maven = fetch_ok(providers["depsdev"], "pkg:maven/org.apache.commons/commons-lang3")
    assert maven.repository_url == "https://github.com/apache/commons-lang"
    assert maven.scorecard["overall"] == 7.5


def test_depsdev_has_no_rubygems(providers, fake):
    assert not providers["depsdev"].supports("pkg:gem/rails")
    assert providers["depsdev"].fetch("pkg:gem/rails").error == "unsupported"
    assert fake.counts() == {}


def test_pick_source_repo_ranks_provenance():
    related = [
        {"projectKey": {"id": "github.com/a/issues"}, "relationType": "ISSUE_TRACKER"},
        {
            "projectKey": {"id": "github.com/a/meta"},
            "relationProvenance": "UNVERIFIED_METADATA",
            "relationType": "SOURCE_REPO",
        },
        {
            "projectKey": {"id": "github.com/a/attested"},
            "relationProvenance": "PYPI_PUBLISH_ATTESTATION",
            "relationType": "SOURCE_REPO",
        },
        "junk",
    ]
    assert pick_source_repo(related) == ("github.com/a/attested", "PYPI_PUBLISH_ATTESTATION")
    assert pick_source_repo(None) == (None, None)


def test_ecosystems_single(providers):
    meta = fetch_ok(providers["ecosystems"], "pkg:cargo/serde")
    assert meta.repository_url == "https://github.com/serde-rs/serde"
    assert meta.dependents == 12 and meta.downloads_period == "last-month"
    assert meta.publishers_count == 1
    deprecated = fetch_ok(providers["ecosystems"], "pkg:npm/left-pad")
    assert deprecated.deprecated is True and deprecated.archived is True
    assert deprecated.owner_type == "user"


def test_ecosystems_batch_is_one_request_per_hundred(providers, fake):
    keys = [p.purl for p in sample_catalogue()[0]] + ["pkg:pypi/not-there", "not a purl"]
    results = providers["ecosystems"].fetch_batch(keys)
    assert list(results) == keys
    assert fake.counts() == {"ecosystems": 1}
    assert results["pkg:pypi/requests"].metadata.repository_url == "https://github.com/psf/requests"
    assert results["pkg:npm/%40babel/core"].metadata.publishers_count == 3
    assert results["pkg:maven/org.apache.commons/commons-lang3"].ok
    assert results["pkg:pypi/not-there"].error == "http_404"
    assert results["not a purl"].error == "invalid_package_key"


def test_ecosystems_batch_of_250_uses_three_requests(client):
    packages, repos = synthetic_catalogue(250)
    with start_fake_registries(packages=packages, repos=repos) as big:
        provider = build_providers(client, base_urls=big.base_urls, enabled=["ecosystems"])
        results = provider["ecosystems"].fetch_batch([p.purl for p in packages])
        assert big.counts() == {"ecosystems": 3}
    assert all(r.ok for r in results.values())
    assert len(results) == 250


def test_ecosystems_batch_failure_marks_every_key(providers, fake):
    fake.app.add_fault("ecosystems", status=500, times=3)
    results = providers["ecosystems"].fetch_batch(["pkg:pypi/requests", "pkg:cargo/serde"])
    assert {r.error for r in results.values()} == {"http_500"}


def test_default_batch_falls_back_to_single_fetches(providers, fake):
    results = providers["pypi"].fetch_batch(["pkg:pypi/requests", "pkg:pypi/nope"])
    assert results["pkg:pypi/requests"].ok and results["pkg:pypi/nope"].error == "http_404"
    assert fake.counts() == {"pypi": 2}


# --- GitHub --------------------------------------------------------------------------


def test_github_repository(providers, fake):
    meta = fetch_ok(providers["github"], "pkg:github/psf/requests")
    assert meta.repository_url == "https://github.com/psf/requests"
    assert meta.owner_type == "organization" and meta.archived is False
    assert [(c.kind, c.handle_or_url) for c in meta.funding] == [
        ("custom", "https://www.python.org/psf/sponsorship/"),
        ("github_sponsors", "psf"),
    ]
    assert [(p.login, p.contributions) for p in meta.contributors] == [
        ("kennethreitz", 3000),
        ("nateprewitt", 900),
    ]
    assert meta.contributors_count == 2
    assert meta.pushed_at == datetime(2024, 6, 1, tzinfo=UTC)
    headers = list(fake.app.request_headers)
    assert all(h["authorization"] == "Bearer ghp_testtoken" for h in headers)
    assert all(h["x-github-api-version"] == "2022-11-28" for h in headers)


def test_github_asks_only_for_the_funding_files_its_root_listing_shows(client, fake):
    rest = build_providers(client, base_urls=fake.base_urls, now=lambda: FIXED_NOW)["github"]
    fake.app.reset_counts()
    # serde: a .github folder (workflows) and FUNDING.yml at the root, no funding.json
    # and no docs folder: those are never asked for.
    assert rest.fetch("pkg:github/serde-rs/serde").ok
    assert [path for _source, _method, path in fake.app.requests] == [
        "/github/repos/serde-rs/serde",
        "/github/repos/serde-rs/serde/contents",
        "/github/repos/serde-rs/serde/contents/.github/FUNDING.yml",  # takes precedence
        "/github/repos/serde-rs/serde/contents/FUNDING.yml",
        "/github/repos/serde-rs/serde/contributors?per_page=30",
    ]


def test_github_root_funding_yml_and_funding_json(providers):
    serde = fetch_ok(providers["github"], "pkg:github/serde-rs/serde")
    assert [(c.kind, c.handle_or_url) for c in serde.funding] == [("github_sponsors", "dtolnay")]
    cobra = fetch_ok(providers["github"], "pkg:github/spf13/cobra")
    assert [(c.kind, c.handle_or_url) for c in cobra.funding] == [("github_sponsors", "spf13")]
    (plan,) = cobra.funding_plans
    assert (plan.amount_minor, plan.currency, plan.frequency) == (25000, "USD", "monthly")


def test_github_archived_repo_and_fetch_repo(providers):
    from service.projects.urls import normalize_repo_url

    result = providers["github"].fetch_repo(
        normalize_repo_url("https://github.com/Left-Pad/left-pad")
    )
    assert result.ok and result.metadata.archived is True
    assert result.metadata.owner_type == "user" and result.metadata.funding == ()


def test_github_missing_repository(providers):
    assert providers["github"].fetch("pkg:github/nobody/nothing").error == "http_404"


def test_github_rate_limit_exhausted(providers, fake):
    fake.app.github_rate_limit = (0, int(datetime.now(UTC).timestamp()) + 3600)
    first = providers["github"].fetch("pkg:github/psf/requests")
    # The repository answer arrived; the follow-up calls would have to wait an hour.
    assert first.ok
    assert "contents: rate_limited" in first.warnings
    second = providers["github"].fetch("pkg:github/serde-rs/serde")
    assert second.error == "rate_limited"
    assert fake.counts() == {"github": 1}


def test_github_token_stays_off_other_origins(providers, fake):
    # A redirect from the API to another origin must not carry the token along.
    with start_fake_registries(packages=[], repos=sample_catalogue()[1]) as other:
        fake.app.add_fault(
            "github", kind="redirect", location=f"{other.url}/github/repos/psf/requests"
        )
        result = providers["github"].fetch("pkg:github/psf/requests")
        assert result.ok
        assert "authorization" not in other.app.request_headers[0]
        assert fake.app.request_headers[0]["authorization"] == "Bearer ghp_testtoken"


# --- failure modes, for every source --------------------------------------------------------

MAIN_REQUESTS = [
    ("pypi", "pkg:pypi/requests"),
    ("npm", "pkg:npm/left-pad"),
    ("crates", "pkg:cargo/serde"),
    ("rubygems", "pkg:gem/rails"),
    ("maven", "pkg:maven/org.apache.commons/commons-lang3"),
    ("nuget", "pkg:nuget/Newtonsoft.Json"),
    ("go", "pkg:golang/go.uber.org/zap"),
    ("depsdev", "pkg:cargo/serde"),
    ("ecosystems", "pkg:gem/rails"),
    ("github", "pkg:github/psf/requests"),
]


@pytest.mark.parametrize(("source", "key"), MAIN_REQUESTS)
def test_unknown_package_is_http_404(providers, source, key):
    missing = key.rsplit("/", 1)[0] + "/does-not-exist"
    result = providers[source].fetch(missing)
    assert result.error == "http_404" and result.metadata is None


@pytest.mark.parametrize(("source", "key"), MAIN_REQUESTS)
def test_429_with_retry_after_is_waited_out(providers, fake, sleeps, source, key):
    fake.app.add_fault(source, status=429, headers={"Retry-After": "2"})
    result = providers[source].fetch(key)
    assert result.ok, result
    assert sleeps == [2.0]


@pytest.mark.parametrize(("source", "key"), MAIN_REQUESTS)
def test_persistent_5xx_is_reported(providers, fake, source, key):
    fake.app.add_fault(source, status=503, times=10)
    result = providers[source].fetch(key)
    assert result.error == "http_503"
    assert fake.counts()[source] == 3  # first try + max_retries


@pytest.mark.parametrize(("source", "key"), MAIN_REQUESTS)
def test_garbage_body_is_reported(providers, fake, source, key):
    fake.app.add_fault(source, kind="garbage")
    result = providers[source].fetch(key)
    assert result.error == ("invalid_xml" if source == "maven" else "invalid_json")


@pytest.mark.parametrize(("source", "key"), MAIN_REQUESTS)
def test_huge_body_is_cut_off(sleeps, fake, source, key):
    fake.app.add_fault(source, kind="huge", size=200_000, times=2)
    with make_client(sleeps, max_bytes=100_000) as small:
        result = providers_for(small, fake)[source].fetch(key)
    if source == "npm":  # the packument is too large: the small /latest document is used
        assert result.ok or result.error == "too_large"
    else:
        assert result.error == "too_large"


@pytest.mark.parametrize(("source", "key"), MAIN_REQUESTS)
def test_redirect_loop_is_reported(providers, fake, source, key):
    fake.app.add_fault(source, kind="redirect_loop")
    assert providers[source].fetch(key).error == "redirect_loop"


@pytest.mark.parametrize(("source", "key"), MAIN_REQUESTS[:3])
def test_timeouts_are_reported(sleeps, fake, source, key):
    fake.app.add_fault(source, kind="slow", delay=0.3, times=2)
    with make_client(sleeps, read_timeout=0.05, max_retries=1) as impatient:
        result = providers_for(impatient, fake)[source].fetch(key)
    assert result.error == "timeout"


def test_providers_never_raise_for_unreachable_or_blocked_hosts(client):
    providers = build_providers(
        client, base_urls={source: "http://10.0.0.1" for source in default_base_urls()}
    )
    for source, provider in providers.items():
        key = dict(MAIN_REQUESTS)[source]
        assert provider.fetch(key).error == "blocked_address"


def test_bad_keys(providers, fake):
    assert providers["pypi"].fetch("not-a-purl").error == "invalid_package_key"
    assert providers["pypi"].fetch("pkg:npm/left-pad").error == "unsupported"
    assert providers["pypi"].supports("pkg:pypi/x") and not providers["pypi"].supports("nope")
    assert fake.counts() == {}


# --- conditional requests ---------------------------------------------------------------------


@pytest.mark.parametrize(("source", "key"), MAIN_REQUESTS)
def test_conditional_refetch_is_not_modified(providers, fake, source, key):
    first = providers[source].fetch(key)
    assert first.ok and (first.etag or first.last_modified)
    before = fake.counts()[source]
    cached = CachedEntry(first.etag, first.last_modified, first.fetched_at, first.metadata)
    second = providers[source].fetch(key, cached=cached)
    assert second.not_modified and second.ok
    assert second.metadata == first.metadata
    assert fake.counts()[source] == before + 1  # only the main document was asked for


def test_last_modified_alone_is_enough(providers, fake):
    first = providers["pypi"].fetch("pkg:pypi/requests")
    second = providers["pypi"].fetch(
        "pkg:pypi/requests", cached=CachedEntry(last_modified=first.last_modified)
    )
    assert second.not_modified and second.metadata is None


# --- build_providers -------------------------------------------------------------------------


def test_build_providers_defaults_and_errors(client):
    providers = build_providers(client)
    assert tuple(providers) == SOURCES
    assert providers["pypi"].base_url == "https://pypi.org"
    assert providers["github"].base_url == "https://api.github.com"
    subset = build_providers(client, enabled=["pypi", "github"])
    assert set(subset) == {"pypi", "github"}
    with pytest.raises(ValueError, match="unknown metadata sources"):
        build_providers(client, enabled=["pypi", "cpan"])
    with pytest.raises(ValueError, match="OutboundClient"):
        build_providers(None)


def test_github_enterprise_host(client):
    providers = build_providers(
        client,
        base_urls={"github": "https://ghe.corp.example/api/v3"},
        github_web_host="ghe.corp.example",
        enabled=["github", "npm"],
    )
    assert providers["github"].web_host == "ghe.corp.example"
    ref = providers["npm"]._repo("git+https://ghe.corp.example/team/tool.git")
    assert ref is not None and ref.key == "ghe.corp.example/team/tool"


# --- offline snapshots ---------------------------------------------------------------------


def test_snapshot_round_trip_and_offline_provider(providers):
    results = [
        providers["pypi"].fetch("pkg:pypi/requests"),
        providers["github"].fetch("pkg:github/spf13/cobra"),
        providers["depsdev"].fetch("pkg:npm/%40babel/core"),
        providers["pypi"].fetch("pkg:pypi/absent"),  # errors are not kept
    ]
    records = [r for r in map(SnapshotRecord.from_result, results) if r is not None]
    buffer = io.StringIO()
    assert dump_snapshot(records, buffer) == 3
    lines = buffer.getvalue().splitlines()
    assert [json.loads(line)["source"] for line in lines] == ["depsdev", "github", "pypi"]

    loaded = load_snapshot(io.StringIO(buffer.getvalue()))
    offline = build_providers(None, offline_snapshot=loaded)
    assert set(offline) == {"depsdev", "github", "pypi"}
    again = offline["pypi"].fetch("pkg:pypi/requests")
    assert again.ok and again.metadata == results[0].metadata
    assert again.fetched_at == FIXED_NOW
    assert offline["github"].fetch("pkg:github/spf13/cobra").metadata == results[1].metadata
    assert offline["pypi"].fetch("pkg:pypi/flask").error == "not_in_snapshot"
    assert offline["pypi"].supports("pkg:pypi/requests")
    assert not offline["pypi"].supports("pkg:pypi/flask")
    batch = offline["depsdev"].fetch_batch(["pkg:npm/%40babel/core"])
    assert batch["pkg:npm/%40babel/core"].metadata.repository_provenance == "attested"


def test_snapshot_files(tmp_path):
    meta = PackageMetadata(
        repository_url="https://github.com/a/b",
        maintainers=(Person(login="a", role="owner", source="pypi"),),
        latest_release_at=datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
        scorecard={"overall": 5.0, "maintained": 3, "date": None, "checks": {}},
    )
    path = tmp_path / "metadata.jsonl"
    record = SnapshotRecord("pypi", "pkg:pypi/b", FIXED_NOW, meta)
    dump_snapshot([record], path)
    assert load_snapshot(path) == {("pypi", "pkg:pypi/b"): record}
    providers = build_providers(None, offline_snapshot=path, enabled=["pypi", "npm"])
    assert set(providers) == {"pypi"}
    assert isinstance(providers["pypi"], OfflineProvider)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("not json", "line 2: not JSON"),
        ("[1]", "line 2: expected a JSON object"),
        ('{"key": "pkg:pypi/a", "data": {}}', "line 2: 'source'"),
        ('{"source": "pypi", "key": "nope", "data": {}}', "line 2: 'key' 'nope'"),
        ('{"source": "pypi", "key": "pkg:pypi/a", "data": []}', "line 2: 'data'"),
        ('{"source": "pypi", "key": "pkg:pypi/a", "data": {"maintainers": [1]}}', "line 2"),
    ],
)
def test_bad_snapshot_lines_name_the_line(line, message):
    good = '{"source": "pypi", "key": "pkg:pypi/ok", "fetched_at": null, "data": {}}'
    with pytest.raises(SnapshotError, match=message):
        list(iter_snapshot(io.StringIO(good + "\n" + line + "\n")))


def test_metadata_dict_round_trip():
    meta = PackageMetadata(
        repository_url="https://github.com/a/b",
        maintainers=(Person("a", "A", "a@x.org", "owner", "pypi"),),
        contributors=(Person("c", role="contributor", source="github", contributions=3),),
        latest_release_at=datetime(2024, 1, 2, tzinfo=UTC),
        pushed_at=datetime(2024, 2, 3, tzinfo=UTC),
        deprecated=False,
        archived=True,
        downloads=5,
    )
    data = meta.to_dict()
    assert data["latest_release_at"] == "2024-01-02T00:00:00Z"
    assert json.loads(json.dumps(data)) == data
    assert PackageMetadata.from_dict(data) == meta
    assert meta.repository.key == "github.com/a/b"


# --- small pieces -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-05-29T15:37:47Z", datetime(2024, 5, 29, 15, 37, 47, tzinfo=UTC)),
        ("2024-05-29T15:37:47.123456789Z", datetime(2024, 5, 29, 15, 37, 47, 123456, tzinfo=UTC)),
        ("2024-05-29T15:37:47", datetime(2024, 5, 29, 15, 37, 47, tzinfo=UTC)),
        ("2024-05-29T17:37:47+02:00", datetime(2024, 5, 29, 15, 37, 47, tzinfo=UTC)),
        ("garbage", None),
        (None, None),
        (12, None),
    ],
)
def test_parse_time(text, expected):
    assert parse_time(text) == expected


def test_parse_package_key_names():
    assert parse_package_key("pkg:npm/%40babel/core").full_name == "@babel/core"
    assert parse_package_key("pkg:maven/org.apache/x").full_name == "org.apache:x"
    assert parse_package_key("pkg:golang/github.com/x/y").full_name == "github.com/x/y"
    assert parse_package_key("pkg:pypi/Django_Foo").full_name == "django-foo"


def test_results_are_plain_values():
    result = ProviderResult(source="pypi", package_key="pkg:pypi/x", error="timeout")
    assert not result.ok and result.metadata is None


def test_fake_registries_work_in_process_too():
    import httpx

    app = FakeRegistries()
    outbound = OutboundClient(
        transport=httpx.MockTransport(app.httpx_handler), resolver=lambda h: ["93.184.216.34"]
    )
    providers = build_providers(
        outbound,
        base_urls={"pypi": "https://fake.example/pypi", "depsdev": "https://fake.example/depsdev"},
        enabled=["pypi", "depsdev"],
    )
    assert providers["pypi"].fetch("pkg:pypi/requests").metadata.publishers_count == 2
    depsdev = providers["depsdev"].fetch("pkg:npm/%40babel/core").metadata
    assert depsdev.repository_provenance == "attested"
    assert app.counts() == {"pypi": 1, "depsdev": 3}


def test_fake_respects_conditional_headers_and_counts():
    app = FakeRegistries()
    first = app.handle("GET", "/pypi/pypi/requests/json", "", {})
    assert first.status == 200 and first.headers["ETag"]
    etag = first.headers["ETag"]
    assert app.handle("GET", "/pypi/pypi/requests/json", "", {"if-none-match": etag}).status == 304
    modified = first.headers["Last-Modified"]
    assert (
        app.handle("GET", "/pypi/pypi/requests/json", "", {"if-modified-since": modified}).status
        == 304
    )
    assert app.handle("GET", "/pypi/pypi/nothing/json", "", {}).status == 404
    assert app.counts() == {"pypi": 4}


def test_fake_latency_and_separate_ports():
    packages, repos = sample_catalogue()
    with start_fake_registries(
        packages=packages, repos=repos, latency={"pypi": 0.05}, separate_ports=True
    ) as running:
        ports = {url.rsplit(":", 1)[1].split("/")[0] for url in running.base_urls.values()}
        assert len(ports) >= 10
        with OutboundClient(allow_hosts=["127.0.0.1"], trust_env=False) as outbound:
            pypi = build_providers(outbound, base_urls=running.base_urls, enabled=["pypi"])["pypi"]
            started = datetime.now(UTC)
            assert pypi.fetch("pkg:pypi/requests").ok
            assert (datetime.now(UTC) - started).total_seconds() >= 0.05
        assert running.counts() == {"pypi": 1}


def test_fake_bulk_lookup_rejects_more_than_100():
    app = FakeRegistries()
    body = json.dumps({"purls": ["pkg:pypi/requests"] * 101}).encode()
    response = app.handle("POST", "/ecosystems/api/v1/packages/bulk_lookup", "", {}, body)
    assert response.status == 400


def test_fault_object_can_be_passed():
    app = FakeRegistries()
    app.add_fault("pypi", Fault(status=418, times=1))
    assert app.handle("GET", "/pypi/pypi/requests/json", "", {}).status == 418
    assert app.handle("GET", "/pypi/pypi/requests/json", "", {}).status == 200


WRONG_SHAPES = [
    b"[]",
    b'"just a string"',
    b"null",
    b"12",
    json.dumps(
        {
            "info": [],
            "ownership": {"roles": [1, {"user": 5, "role": []}]},
            "releases": {"1.0": [{"upload_time_iso_8601": 7}], "2": "x"},
            "dist-tags": {"latest": ["x"]},
            "versions": [1, {"versionKey": [], "publishedAt": 3}],
            "time": [],
            "maintainers": "bob",
            "crate": {"max_version": 5, "num_versions": "x", "repository": {"a": 1}},
            "users": "x",
            "metadata": [],
            "items": [{"items": "x", "count": "7"}, 3],
            "Origin": "x",
            "relatedProjects": {},
            "owner": [],
            "full_name": 5,
            "funding_links": {"a": 1},
            "repository": {"url": 5},
            "repository_url": ["https://github.com/a/b"],
            "content": 5,
            "data": {"owners": 5},
        }
    ).encode(),
    json.dumps(
        {
            "info": {"project_urls": ["x"], "version": {"a": 1}},
            "releases": [],
            "dist-tags": {"latest": "1.0"},
            "versions": {"1.0": "not a manifest"},
            "crate": {"max_stable_version": "1", "updated_at": 5},
            "items": [{"items": [{"catalogEntry": "x"}, {"catalogEntry": {"version": 5}}]}],
            "Version": ["v1"],
            "Time": {"t": 1},
            "maintainers": [{"login": 5, "name": ["x"]}, "bob <bob@x.org>"],
            "metadata": {"funding_uri": 5, "source_code_uri": ["x"]},
            "scorecard": {"checks": "x", "overallScore": "high"},
        }
    ).encode(),
]


@pytest.mark.parametrize("body", WRONG_SHAPES, ids=lambda b: b[:12].decode())
@pytest.mark.parametrize(("source", "key"), MAIN_REQUESTS)
def test_documents_of_the_wrong_shape_never_raise(providers, fake, source, key, body):
    fake.app.add_fault(
        source, status=200, body=body, headers={"Content-Type": "application/json"}, times=20
    )
    result = providers[source].fetch(key)
    assert isinstance(result, ProviderResult)
    if source == "maven":
        assert result.error == "invalid_xml"
    elif result.ok:
        meta = result.metadata
        assert meta.repository_url is None or meta.repository_url.startswith("https://")
        json.dumps(meta.to_dict())


# GitHub repository facts in GraphQL batches (with a token) -----------------------------------


def test_github_batches_many_repositories_per_graphql_query(providers, fake):
    keys = []
    for index in range(60):
        fake.app.add_repo(
            FakeRepo(
                f"github.com/batch/repo{index}",
                funding_yml="github: [batcher]\n" if index == 0 else None,
                contributors=[("alice", 3), ("bob", 1), ("ci[bot]", 9)],
            )
        )
        keys.append(f"pkg:github/batch/repo{index}")
    keys.append("pkg:github/batch/missing")
    fake.app.reset_counts()
    results = providers["github"].fetch_batch(keys)
    # 61 repositories, 25 a query: 3 requests (0.05 a repository), all POSTs to GraphQL.
    assert fake.counts() == {"github": 3}
    assert {method for source, method, _path in fake.app.requests} == {"POST"}
    first = results["pkg:github/batch/repo0"].metadata
    assert first.repository_url == "https://github.com/batch/repo0"
    assert [(c.kind, c.handle_or_url) for c in first.funding] == [("github_sponsors", "batcher")]
    assert [(p.login, p.contributions) for p in first.contributors] == [("alice", 3), ("bob", 1)]
    assert (first.active_contributors, first.commits_last_year, first.license) == (2, 13, "MIT")
    assert first.created_at == parse_time("2015-01-01T00:00:00Z")
    assert first.owner_type == "organization"
    assert results["pkg:github/batch/missing"].error == "not_found"


def test_github_names_travel_as_variables_never_in_the_query_text(providers, fake):
    fake.app.reset_counts()
    providers["github"].fetch_batch(['pkg:github/evil/x"){a}#'])
    (body,) = [json.loads(b) for b in fake.app.bodies if b] or [None]
    assert body is not None and "evil" not in body["query"]
    assert body["variables"]["o0"] == "evil"


def test_a_failed_graphql_query_fails_each_repository_with_the_reason(providers, fake):
    fake.app.add_fault("github", status=502, times=5)
    results = providers["github"].fetch_batch(["pkg:github/psf/requests"])
    assert results["pkg:github/psf/requests"].error == "http_502"


def test_without_a_token_repositories_are_read_over_rest(client, fake):
    rest = build_providers(client, base_urls=fake.base_urls, now=lambda: FIXED_NOW)["github"]
    fake.app.reset_counts()
    results = rest.fetch_batch(["pkg:github/psf/requests"])
    assert results["pkg:github/psf/requests"].ok
    assert {method for source, method, _path in fake.app.requests} == {"GET"}


def test_graphql_answers_are_read_alias_by_alias():
    body = {
        "data": {"r0": {"nameWithOwner": "a/b"}, "r1": None},
        "errors": [{"type": "NOT_FOUND", "path": ["r1"]}],
    }
    assert github_graphql.answers(body, 2) == [
        ({"nameWithOwner": "a/b"}, None),
        (None, "not_found"),
    ]
    limited = {"data": None, "errors": [{"type": "RATE_LIMITED", "message": "limit"}]}
    assert github_graphql.answers(limited, 2) == [
        (None, "graphql_rate_limited"),
        (None, "graphql_rate_limited"),
    ]
