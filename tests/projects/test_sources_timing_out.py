"""Every outside source timing out during resolution: uploads are stored and answered as
ever, pages draw, the resolution ends with each package's failure recorded as a timeout
(nothing raised, the task done), and a later upload is unaffected too."""

from __future__ import annotations

from sqlmodel import select

from service.audit.services import Actor
from service.companies.models import Role
from service.companies.services import create_token
from service.core.http import OutboundClient
from service.jobs.models import Task, TaskStatus
from service.projects.providers import build_providers
from service.sboms.models import Sbom
from tests.conftest import login
from tests.factories import make_company, make_user
from tests.fakes.registries import SOURCES
from tests.projects.conftest import component, cyclonedx, no_dns
from tests.projects.test_resolution import drain, resolutions

PACKAGES = [
    "pkg:pypi/requests@2.32.3",
    "pkg:npm/%40babel/core@7.24.7",
    "pkg:cargo/serde@1.0.200",
    "pkg:gem/rails@7.1.0",
    "pkg:maven/org.example/core@1.0",
    "pkg:nuget/Newtonsoft.Json@13.0.3",
    "pkg:golang/github.com/spf13/cobra@v1.8.0",
]
PAGES = ("/c/{slug}/projects", "/c/{slug}/dependencies", "/c/{slug}/risk", "/c/{slug}/")


def test_every_source_timing_out_leaves_uploads_and_pages_alone(app, client, session, registries):
    impatient = OutboundClient(
        allow_hosts=["127.0.0.1"],
        resolver=no_dns,
        trust_env=False,
        sleep=lambda _s: None,
        version="test",
        read_timeout=0.1,
        max_retries=0,
    )
    app.extensions["tributary.outbound"] = impatient
    app.extensions["tributary.providers"] = build_providers(  # every source there is
        impatient,
        base_urls=registries.base_urls,
        go_vanity_url=registries.go_vanity_url,
        github_token="ghp_test",
    )
    for source in SOURCES:  # each answers only after the client stopped waiting
        registries.app.add_fault(source, kind="slow", delay=0.4, times=1000)
    owner = make_user(session)
    company = make_company(session, members=[(owner, Role.owner)])
    token = create_token(session, Actor.system("t"), company, name="ci", scopes=["sbom:write"])
    session.commit()
    login(client, owner)

    def upload(product: str):
        return client.post(
            f"/api/v1/companies/{company.slug}/products/{product}/sboms",
            data=cyclonedx([component(purl) for purl in PACKAGES]),
            headers={"Authorization": f"Bearer {token.plaintext}"},
            content_type="application/json",
        )

    assert upload("web").status_code == 201
    for page in PAGES:  # resolution still queued
        assert client.get(page.format(slug=company.slug)).status_code == 200

    drain(app)
    found = resolutions(session)
    assert set(found) == {purl.rsplit("@", 1)[0] for purl in PACKAGES}
    # A Go module on github.com names its repository itself: no source needed.
    assert found.pop("pkg:golang/github.com/spf13/cobra")[0] == "resolved"
    for key, (status, _source, reason, project) in found.items():
        assert status == "error" and project is None, (key, status, reason)
        assert "timeout" in reason, (key, reason)
    # The run itself succeeded; asking again later is queued work, not a failure.
    tasks = dict(session.exec(select(Task.kind, Task.status)).all())
    assert tasks["projects.resolve_sbom"] == TaskStatus.done
    assert tasks["projects.resolve_due"] == TaskStatus.queued
    assert TaskStatus.failed not in tasks.values()

    for page in PAGES:
        assert client.get(page.format(slug=company.slug)).status_code == 200
    assert upload("api").status_code == 201
    assert len(session.exec(select(Sbom)).all()) == 2
