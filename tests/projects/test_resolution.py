"""Resolution through the real service: queued by ingest, run by the task queue, each answer
recorded with its source, failures recorded with their reason and retried with backoff."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from service.core.http import OutboundClient
from service.jobs.models import Task, TaskStatus
from service.jobs.queue import run_pending
from service.projects import services
from service.projects.links import hint_repository, purl_repository
from service.projects.models import (
    FundingChannel,
    Maintainer,
    MetadataCacheEntry,
    PackageResolution,
    Project,
)
from service.projects.providers import build_providers
from service.projects.providers.golang import GoProvider
from service.sboms.models import Package
from tests.factories import make_company
from tests.projects.conftest import NOW, component, no_dns, store_sbom


def resolutions(session) -> dict[str, tuple]:
    rows = session.exec(
        select(Package.key, PackageResolution, Project.key)
        .join(PackageResolution, PackageResolution.package_id == Package.id)
        .outerjoin(Project, Project.id == PackageResolution.project_id)
    ).all()
    return {key: (r.status, r.source, r.reason, project) for key, r, project in rows}


def company_view(session, company) -> dict[str, tuple]:
    """Each package's resolution as the company sees it (its own SBOM links included)."""
    ids = services.active_sbom_ids(session, company.id)
    return {
        row.key: (row.status, row.source, row.reason, row.project_key)
        for row in services.packages_of_sboms(session, company.id, ids)
    }


def drain(app, now=NOW) -> int:
    with app.app_context():
        return run_pending(app.extensions["tributary.db"], now=now)


def test_ingest_queues_resolution_and_the_queue_runs_it(app, session, providers, registries):
    company = make_company(session)
    sbom = store_sbom(
        session,
        company,
        [
            component("pkg:pypi/requests@2.32.3"),
            component("pkg:npm/%40babel/core@7.24.7"),
            component("pkg:npm/%40babel/parser@7.24.7"),
            component("pkg:cargo/serde@1.0.203"),
            component("pkg:pypi/no-repo@1.0"),
        ],
    )
    # Nothing was fetched inside the upload: the work waits in the queue.
    assert registries.counts() == {}
    task = session.exec(select(Task).where(Task.kind == services.RESOLVE_SBOM)).one()
    assert task.payload == {"sbom_id": sbom.id} and task.company_id == company.id

    assert drain(app) >= 1
    found = resolutions(session)
    assert found["pkg:pypi/requests"][:2] == ("resolved", "pypi")
    assert found["pkg:pypi/requests"][3] == "github.com/psf/requests"
    assert found["pkg:cargo/serde"][:2] == ("resolved", "crates")
    status, source, reason, project = found["pkg:pypi/no-repo"]
    assert (status, source, project) == ("unresolved", None, None)
    assert reason == "no repository link from pypi, depsdev, ecosystems"
    # A monorepo: two packages, one project.
    assert found["pkg:npm/%40babel/core"][3] == found["pkg:npm/%40babel/parser"][3]
    assert len(session.exec(select(Project)).all()) == 3

    requests_project = session.exec(
        select(Project).where(Project.key == "github.com/psf/requests")
    ).one()
    assert requests_project.repo_status == "ok" and requests_project.archived is False
    assert requests_project.owner_type == "organization"
    people = {
        (m.source, m.login or m.name, m.role)
        for m in session.exec(
            select(Maintainer).where(Maintainer.project_id == requests_project.id)
        )
    }
    assert ("pypi", "nateprewitt", "owner") in people
    assert ("github", "kennethreitz", "contributor") in people
    assert not any(login == "dependabot[bot]" for _s, login, _r in people)
    channels = {
        (c.kind, c.handle, c.source, c.person_login)
        for c in session.exec(
            select(FundingChannel).where(FundingChannel.project_id == requests_project.id)
        )
    }
    assert channels == {
        ("open_collective", "psf", "pypi", None),
        ("open_collective", "psf", "ecosystems", None),
        ("github_sponsors", "psf", "FUNDING.yml", "psf"),
        ("custom", "https://www.python.org/psf/sponsorship/", "FUNDING.yml", None),
    }
    entry = session.exec(
        select(MetadataCacheEntry).where(
            MetadataCacheEntry.source == "pypi", MetadataCacheEntry.key == "pkg:pypi/requests"
        )
    ).one()
    assert entry.status == "ok" and entry.etag and entry.fetched_at
    assert entry.expires_at == NOW + timedelta(days=7)
    session.refresh(task)
    assert task.status == TaskStatus.done


def test_funding_json_plans_and_purl_named_repositories(app, session, providers, registries):
    company = make_company(session)
    store_sbom(session, company, [component("pkg:golang/github.com/spf13/cobra@v1.8.0")])
    drain(app)
    assert resolutions(session)["pkg:golang/github.com/spf13/cobra"][:2] == ("resolved", "purl")
    channels = {(c.kind, c.handle, c.source) for c in session.exec(select(FundingChannel))}
    assert ("github_sponsors", "spf13", "funding.json") in channels
    assert ("funding_json_plan", "Support: 250.00 USD monthly", "funding.json") in channels


def test_purls_and_sbom_hints_need_no_registry_request(app, session, providers, registries):
    company = make_company(session)
    store_sbom(
        session,
        company,
        [
            component("pkg:github/serde-rs/serde@v1"),
            component(
                "pkg:deb/debian/curl@8.0", hints=[("vcs", "git+https://github.com/curl/curl.git")]
            ),
            component(
                "pkg:generic/tool@1",
                hints=[
                    ("website", "https://example.org"),
                    ("distribution", "https://github.com/x/tool/releases"),
                ],
            ),
        ],
    )
    drain(app)
    found = company_view(session, company)
    assert found["pkg:github/serde-rs/serde"][:2] == ("resolved", "purl")
    assert found["pkg:deb/debian/curl"] == ("resolved", "sbom", None, "github.com/curl/curl")
    assert found["pkg:generic/tool"][3] == "github.com/x/tool"
    # The shared resolution keeps only what no company asserted.
    assert resolutions(session)["pkg:deb/debian/curl"][3] is None
    # Only the repositories themselves were read, no registry.
    assert set(registries.counts()) == {"github"}


def test_the_registry_wins_over_a_conflicting_sbom_hint(app, session, providers):
    company = make_company(session)
    store_sbom(
        session,
        company,
        [
            component(
                "pkg:pypi/requests@2.32.3", hints=[("vcs", "https://github.com/evil/requests")]
            )
        ],
    )
    drain(app)
    assert company_view(session, company)["pkg:pypi/requests"][1:] == (
        "pypi",
        None,
        "github.com/psf/requests",
    )


def only(app, outbound, registries, *sources, **client_options):
    client = outbound
    if client_options:
        client = OutboundClient(
            allow_hosts=["127.0.0.1"],
            resolver=no_dns,
            trust_env=False,
            sleep=lambda s: None,
            version="test",
            **client_options,
        )
    built = build_providers(client, base_urls=registries.base_urls, enabled=sources)
    app.extensions["tributary.outbound"] = client
    app.extensions["tributary.providers"] = built
    return built


def test_a_failing_source_is_recorded_and_retried_with_backoff(app, session, outbound, registries):
    only(app, outbound, registries, "npm")
    registries.app.add_fault("npm", status=503, times=2)  # the first try and its one retry
    company = make_company(session)
    store_sbom(session, company, [component("pkg:npm/left-pad@1.3.0")])
    drain(app)
    status, _source, reason, _project = resolutions(session)["pkg:npm/left-pad"]
    assert (status, reason) == ("error", "npm: http_503")
    entry = session.exec(select(MetadataCacheEntry)).one()
    assert (entry.status, entry.error, entry.attempts) == ("error", "http_503", 1)
    assert entry.next_attempt_at == NOW + timedelta(minutes=15)
    retry = session.exec(select(Task).where(Task.kind == services.RESOLVE_DUE)).one()
    assert retry.run_after == NOW + timedelta(minutes=15)

    # Not before the backoff runs out …
    assert drain(app, NOW + timedelta(minutes=5)) == 0
    # … then it is asked again; it fails again, so the next retry waits twice as long …
    registries.app.add_fault("npm", status=503, times=2)
    assert drain(app, NOW + timedelta(minutes=16)) == 1
    session.refresh(entry)
    assert entry.attempts == 2
    assert entry.next_attempt_at == NOW + timedelta(minutes=16 + 30)
    # … and then it answers.
    registries.app.reset_counts()
    assert drain(app, NOW + timedelta(minutes=47)) == 1
    assert registries.counts() == {"npm": 1}
    status, source, reason, project = resolutions(session)["pkg:npm/left-pad"]
    assert (status, source, project) == ("resolved", "npm", "github.com/left-pad/left-pad")
    session.refresh(entry)
    assert (entry.status, entry.attempts, entry.next_attempt_at) == ("ok", 0, None)


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        ({"kind": "status", "status": 500, "times": 2}, ("error", "npm: http_500")),
        (
            {"kind": "status", "status": 429, "headers": {"Retry-After": "3600"}},
            ("error", "npm: rate_limited"),
        ),
        ({"kind": "garbage"}, ("error", "npm: invalid_json")),
        ({"kind": "huge", "size": 300_000, "times": 2}, ("error", "npm: too_large")),
        ({"kind": "redirect_loop"}, ("error", "npm: redirect_loop")),
        (
            {"kind": "redirect", "location": "http://10.0.0.1/npm/left-pad"},
            ("unresolved", "npm: blocked_address (refused, not fetched)"),
        ),
        ({"kind": "slow", "delay": 0.6, "times": 2}, ("error", "npm: timeout")),
    ],
)
def test_each_kind_of_failure_is_recorded_with_its_reason(
    app, session, outbound, registries, fault, expected
):
    only(app, outbound, registries, "npm", max_retries=1, read_timeout=0.3, max_bytes=100_000)
    registries.app.add_fault("npm", **fault)
    company = make_company(session)
    store_sbom(session, company, [component("pkg:npm/left-pad@1.3.0")])
    drain(app)  # never raises: the failure lands on the package
    status, _source, reason, _project = resolutions(session)["pkg:npm/left-pad"]
    assert (status, reason) == expected


def test_unknown_package_is_unresolved_with_the_reason(app, session, outbound, registries):
    only(app, outbound, registries, "npm")
    company = make_company(session)
    store_sbom(session, company, [component("pkg:npm/no-such-package@1.0.0")])
    drain(app)
    status, _source, reason, _project = resolutions(session)["pkg:npm/no-such-package"]
    assert (status, reason) == ("unresolved", "npm: not found (http_404)")
    entry = session.exec(select(MetadataCacheEntry)).one()
    assert entry.next_attempt_at == NOW + timedelta(days=1)  # asked again, but not soon


def test_metadata_pointing_inside_is_blocked_and_never_fetched(app, session, outbound, registries):
    built = only(app, outbound, registries, "pypi", "go")
    # The real go-get lookup (no test override): the module's own host is asked.
    built["go"] = GoProvider(outbound, base_url=registries.base_urls["go"])
    company = make_company(session)
    store_sbom(
        session,
        company,
        [
            component("pkg:generic/thing@1", hints=[("vcs", "http://127.0.0.1:9/owner/repo")]),
            component("pkg:generic/other@1", hints=[("vcs", "git+ssh://git@10.1.2.3/o/r.git")]),
            component("pkg:pypi/evil-links@0.1"),
            component("pkg:golang/internal.corp/secret@v1.0.0"),
        ],
    )
    drain(app)
    found = company_view(session, company)
    for key in ("pkg:generic/thing", "pkg:generic/other"):
        status, _s, reason, project = found[key]
        assert status == "unresolved" and project is None
        assert "private or local address (blocked, not fetched)" in reason
    # The registry's repository URL points at 10.0.0.1: dropped, never followed.
    assert found["pkg:pypi/evil-links"][0] == "unresolved"
    status, _s, reason, _p = found["pkg:golang/internal.corp/secret"]
    assert status == "unresolved" and "go-get: blocked_address" in reason
    # Only the fake registries were asked (pypi and the Go proxy); nothing else was sent.
    assert registries.counts() == {"pypi": 1, "go": 1}


def test_pure_helpers():
    assert purl_repository("pkg:github/Pallets/Flask").key == "github.com/pallets/flask"
    assert purl_repository("pkg:golang/github.com/spf13/cobra/v2").key == "github.com/spf13/cobra"
    assert purl_repository("pkg:npm/left-pad") is None
    repo, notes = hint_repository(
        [["website", "https://github.com/a/site"], ["vcs", "https://github.com/a/code"]]
    )
    assert repo.key == "github.com/a/code" and notes == []
    repo, notes = hint_repository([["vcs", "javascript:alert(1)"], ["vcs", "file:///etc/passwd"]])
    assert repo is None and notes == []


def test_provider_bugs_do_not_stop_a_run(app, session, providers, monkeypatch):
    def explode(*_args, **_kwargs):
        raise RuntimeError("bug")

    monkeypatch.setattr(providers["pypi"], "fetch", explode)
    monkeypatch.setitem(providers, "depsdev", providers["npm"])  # supports nothing of pypi
    providers.pop("ecosystems")
    company = make_company(session)
    store_sbom(session, company, [component("pkg:pypi/requests@2"), component("pkg:cargo/serde@1")])
    drain(app)
    found = resolutions(session)
    assert found["pkg:pypi/requests"][:3] == ("error", None, "pypi: internal_error")
    assert found["pkg:cargo/serde"][0] == "resolved"


def test_the_per_host_limit_bounds_concurrency_through_the_service(
    app, session, registries, monkeypatch
):
    import threading
    import time

    in_flight, peak, lock = [0], [0], threading.Lock()
    original = registries.app.handle

    def counting(*args, **kwargs):
        with lock:
            in_flight[0] += 1
            peak[0] = max(peak[0], in_flight[0])
        try:
            time.sleep(0.02)
            return original(*args, **kwargs)
        finally:
            with lock:
                in_flight[0] -= 1

    monkeypatch.setattr(registries.app, "handle", counting)
    only(app, None, registries, "npm", per_host_limit=2, max_retries=0)
    company = make_company(session)
    store_sbom(
        session,
        company,
        [component(f"pkg:npm/pkg-{i}@1.0.0") for i in range(12)],
    )
    drain(app)  # 32 workers, 12 packages: only the host limit holds them back
    assert registries.counts() == {"npm": 12}
    assert peak[0] == 2


def test_a_registry_failing_for_now_sends_nothing_to_the_fallbacks(
    app, session, outbound, registries
):
    only(app, outbound, registries, "npm", "depsdev", "ecosystems")
    registries.app.add_fault("npm", status=503, times=2)
    company = make_company(session)
    store_sbom(session, company, [component("pkg:npm/left-pad@1.3.0")])
    drain(app)
    # Asked again after the backoff; deps.dev and ecosyste.ms answer only for "no link".
    assert registries.counts() == {"npm": 2}
    assert resolutions(session)["pkg:npm/left-pad"][:3] == ("error", None, "npm: http_503")
    registries.app.reset_counts()
    store_sbom(session, company, [component("pkg:npm/no-such-package@1.0.0")], product="other")
    drain(app)
    assert registries.counts() == {"npm": 1, "depsdev": 1, "ecosystems": 1}


def test_a_repository_failing_for_now_is_asked_again_with_the_packages_backoff(
    app, session, outbound, registries
):
    only(app, outbound, registries, "npm", "github")
    registries.app.add_fault("github", status=502, times=2, match="/repos/left-pad/left-pad")
    company = make_company(session)
    store_sbom(session, company, [component("pkg:npm/left-pad@1.3.0")])
    drain(app)
    project = session.exec(select(Project)).one()
    assert (project.repo_status, project.repo_error) == ("error", "http_502")
    resolution = session.exec(select(PackageResolution)).one()
    assert resolution.status == "resolved"
    assert resolution.next_attempt_at == NOW + timedelta(minutes=15)
    retry = session.exec(select(Task).where(Task.kind == services.RESOLVE_DUE)).one()
    assert retry.run_after == NOW + timedelta(minutes=15)

    registries.app.reset_counts()
    assert drain(app, NOW + timedelta(minutes=16)) == 1
    # The registry's answer is still fresh: only the repository is asked again.
    # The repository, its root listing, .github/FUNDING.yml (there is a .github folder;
    # the absent root FUNDING.yml, docs/FUNDING.yml and funding.json cost nothing) and the
    # contributors: four requests where probing every place took six.
    assert registries.counts() == {"github": 4}
    session.refresh(project)
    assert (project.repo_status, project.repo_error) == ("ok", None)


def test_requests_are_counted_as_they_are_sent_even_when_a_run_dies(
    app, session, providers, registries, monkeypatch
):
    from service.projects.models import OutboundUsage
    from service.projects.resolution import Resolver

    company = make_company(session)
    store_sbom(session, company, [component("pkg:pypi/requests@2.32.3")])

    def die(self):
        raise RuntimeError("the worker died")

    monkeypatch.setattr(Resolver, "_refresh_projects", die)
    drain(app)  # the task fails (and is retried later by the queue)
    usage = {row.source: row.requests for row in session.exec(select(OutboundUsage))}
    assert usage == registries.counts() and usage["pypi"] == 1


def test_a_gem_is_one_request_and_its_owners_come_from_the_batched_lookup(
    app, session, outbound, registries
):
    only(app, outbound, registries, "rubygems", "ecosystems")
    company = make_company(session)
    store_sbom(session, company, [component("pkg:gem/rails@7.1.3")])
    drain(app)
    assert registries.counts() == {"rubygems": 1, "ecosystems": 1}
    project = session.exec(select(Project)).one()
    people = session.exec(select(Maintainer).where(Maintainer.project_id == project.id)).all()
    assert {(p.login, p.source) for p in people if p.login} == {
        ("rafaelfranca", "ecosystems"),
        ("tenderlove", "ecosystems"),
    }


def test_again_now_lifts_the_chosen_packages_registry_backoff_and_no_other(
    app, session, outbound, registries
):
    only(app, outbound, registries, "npm", "github")
    registries.app.add_fault("github", status=502, times=2, match="/repos/left-pad/left-pad")
    registries.app.add_fault("npm", status=503, times=2, match="babel")
    company = make_company(session)
    store_sbom(
        session,
        company,
        [component("pkg:npm/left-pad@1.3.0"), component("pkg:npm/%40babel/core@7.24.7")],
    )
    drain(app)
    assert resolutions(session)["pkg:npm/%40babel/core"][0] == "error"
    ids = [p.id for p in session.exec(select(Package))]
    registries.app.reset_counts()
    with app.app_context():
        services.run_resolution(
            app.extensions["tributary.db"], ids, now=NOW + timedelta(minutes=1), retry_now=True
        )
    # The failed registry answer is asked again at once and links babel's repository, read
    # for the first time; left-pad's repository keeps its backoff.
    assert registries.counts() == {"npm": 1, "github": 4}
    assert not any("left-pad" in path for _source, _method, path in registries.app.requests)
    assert resolutions(session)["pkg:npm/%40babel/core"][0] == "resolved"
