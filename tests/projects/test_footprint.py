"""The registry footprint: per company, what the registries were asked about its packages
this month, checked against the requests the fake registries counted."""

from __future__ import annotations

from datetime import timedelta

from service.allocation.infrastructure.stewards import registry_footprint
from tests.factories import make_company
from tests.projects.conftest import NOW, component, store_sbom
from tests.projects.test_cache import PACKAGES, resolve_all
from tests.projects.test_resolution import drain

MONTH = f"{NOW.year:04d}-{NOW.month:02d}"
REGISTRIES = ("crates", "maven", "npm", "pypi")


def footprint(session, company) -> dict[str, tuple[int, int, int, int]]:
    return {
        row.source: (row.packages, row.sent, row.not_modified, row.from_cache)
        for row in registry_footprint(session, company.id, MONTH)
    }


def test_what_was_sent_and_what_the_cache_and_conditional_requests_avoided(
    app, session, providers, registries
):
    company = make_company(session)
    store_sbom(session, company, PACKAGES)
    drain(app)
    sent = registries.counts()
    assert {source: sent[source] for source in REGISTRIES} == dict.fromkeys(REGISTRIES, 1)
    assert footprint(session, company) == dict.fromkeys(REGISTRIES, (1, 1, 0, 0))

    # Within the TTL the shared cache answers: nothing is sent.
    registries.app.reset_counts()
    resolve_all(app, session, NOW + timedelta(days=6))
    assert registries.counts() == {}
    assert footprint(session, company) == dict.fromkeys(REGISTRIES, (1, 1, 0, 1))

    # After it, one conditional request per package, each answered 304.
    registries.app.reset_counts()
    resolve_all(app, session, NOW + timedelta(days=8))
    assert {source: registries.counts()[source] for source in REGISTRIES} == dict.fromkeys(
        REGISTRIES, 1
    )
    figures = registry_footprint(session, company.id, MONTH)
    assert {row.source: (row.sent, row.not_modified, row.avoided) for row in figures} == (
        dict.fromkeys(REGISTRIES, (2, 1, 2))
    )


def test_a_company_sees_only_its_own_packages(app, session, providers, registries):
    company = make_company(session)
    other = make_company(session)
    store_sbom(session, company, PACKAGES)
    store_sbom(session, other, [component("pkg:pypi/requests@2.32.3")])
    drain(app)
    assert footprint(session, other) == {"pypi": (1, 1, 0, 0)}
    assert set(footprint(session, company)) == set(REGISTRIES)
    assert registry_footprint(session, company.id, "2031-04") == []
