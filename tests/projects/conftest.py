"""Resolution fixtures: the fake registries on a local port, an outbound client that may
reach it (and nothing else: no DNS in tests), and SBOMs stored through the real ingest."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from service.audit.services import Actor
from service.core.clock import FixedClock, use_clock
from service.core.http import OutboundClient
from service.projects.providers import build_providers
from service.sboms.services import ingest
from tests.fakes.registries import FakePackage, FakeRepo, sample_catalogue, start_fake_registries

NOW = datetime(2031, 3, 3, 9, 0, tzinfo=UTC)
NAMES = {"internal.corp": ["10.0.0.5"]}


def no_dns(host: str) -> list[str]:
    if host in NAMES:
        return NAMES[host]
    raise OSError(f"no DNS in tests for {host}")


def catalogue() -> tuple[list[FakePackage], list[FakeRepo]]:
    packages, repos = sample_catalogue()
    packages += [
        FakePackage("pypi", "no-repo", "1.0", repo=None, maintainers=[]),
        # A monorepo: a second package from the babel repository.
        FakePackage("npm", "@babel/parser", "7.24.7", repo="github.com/babel/babel"),
        FakePackage(
            "pypi", "evil-links", "0.1", repo="10.0.0.1/owner/name", homepage="javascript:x"
        ),
        FakePackage("golang", "internal.corp/secret", "v1.0.0", repo=None, maintainers=[]),
        FakePackage(
            "npm",
            "xss-pkg",
            "1.0.0",
            repo="github.com/xss/xss-pkg",
            maintainers=["<script>alert('m')</script>"],
            funding=["javascript:alert(1)", "https://ko-fi.com/<b>x</b>"],
        ),
    ]
    repos += [
        FakeRepo(
            "github.com/xss/xss-pkg",
            funding_yml="github: [octo-maint]\ncustom: ['javascript:alert(2)']\n",
            contributors=[("octo-maint", 50)],
        )
    ]
    return packages, repos


@pytest.fixture(autouse=True)
def frozen_clock():
    """Ingest, the queue and resolution all read this clock: queued work is due at NOW."""
    with use_clock(FixedClock(NOW)) as clock:
        yield clock


@pytest.fixture(scope="session")
def registries_server():
    packages, repos = catalogue()
    with start_fake_registries(packages=packages, repos=repos) as running:
        yield running


@pytest.fixture
def registries(registries_server):
    app = registries_server.app
    app.reset_counts()
    app.clear_faults()
    app.github_rate_limit = None
    yield registries_server
    app.clear_faults()


@pytest.fixture
def outbound():
    client = OutboundClient(
        allow_hosts=["127.0.0.1"],
        resolver=no_dns,
        trust_env=False,
        sleep=lambda _s: None,
        max_retries=1,
        read_timeout=2.0,
        version="test",
    )
    yield client
    client.close()


@pytest.fixture
def providers(app, outbound, registries):
    """The real providers, aimed at the fake registries, installed in the app."""
    built = build_providers(
        outbound,
        base_urls=registries.base_urls,
        go_vanity_url=registries.go_vanity_url,
        github_token="ghp_test",
    )
    app.extensions["tributary.outbound"] = outbound
    app.extensions["tributary.providers"] = built
    return built


def cyclonedx(components: list[dict]) -> bytes:
    """A CycloneDX 1.5 document whose root depends on every component."""
    refs = []
    items = []
    for index, component in enumerate(components):
        ref = component.get("bom-ref") or f"c{index}"
        refs.append(ref)
        items.append({"type": "library", "bom-ref": ref, **component})
    doc = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "version": 1,
        "metadata": {"component": {"type": "application", "name": "app", "bom-ref": "root"}},
        "components": items,
        "dependencies": [{"ref": "root", "dependsOn": refs}]
        + [{"ref": r, "dependsOn": []} for r in refs],
    }
    return json.dumps(doc).encode()


def component(purl: str, *, hints: list[tuple[str, str]] | None = None, **extra) -> dict:
    name = purl.split("/")[-1].split("@")[0]
    item = {"name": name, "version": purl.split("@")[-1] if "@" in purl else "1.0", "purl": purl}
    if hints:
        item["externalReferences"] = [{"type": t, "url": u} for t, u in hints]
    item.update(extra)
    return item


def store_sbom(session, company, components: list[dict], product: str = "web"):
    """Store an SBOM through the real ingest (which queues its resolution) and commit."""
    result = ingest(
        session, Actor.system("test"), company, product, cyclonedx(components), source="cli"
    )
    session.commit()
    return result.sbom
