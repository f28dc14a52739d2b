"""Storing SBOMs: products, history, diffs, idempotency, nothing stored on error, tenancy."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func
from sqlmodel import select

from service.audit.models import Event
from service.audit.services import Actor
from service.sboms import services
from service.sboms.diff import compute_diff, versions_by_package
from service.sboms.inventory_page import InventoryFilters, inventory
from service.sboms.models import BomToken, Package, Product, Sbom, SbomComponent
from service.sboms.parsing import SbomError
from service.sboms.services import IngestError, ingest
from tests.factories import make_company
from tests.sboms.documents import (
    corpus_file,
    corpus_rows,
    cyclonedx,
    expected_counts,
    require_corpus,
)
from tests.sboms.locks import wait_until_a_session_waits_on_a_lock

ACTOR = Actor.system("test")
V1 = cyclonedx(
    ("pkg:pypi/requests", "2.31.0"),
    ("pkg:pypi/flask", "3.0.0"),
    ("pkg:pypi/urllib3", "2.0.0"),
)
V2 = cyclonedx(
    ("pkg:pypi/requests", "2.32.0"),
    ("pkg:pypi/Flask", "3.0.0"),  # same package: PyPI names are case-insensitive
    ("pkg:pypi/click", "8.1.0"),
)


def counts(session) -> dict[str, int]:
    return {
        model.__tablename__: session.exec(select(func.count()).select_from(model)).one()
        for model in (Product, Sbom, SbomComponent, Package, BomToken, Event)
    }


def store(session, company, product, data, **kwargs):
    result = ingest(session, ACTOR, company, product, data, source="cli", **kwargs)
    session.commit()
    return result


def test_a_first_upload_counts_each_package_once_with_the_components_without_purls(session):
    document = cyclonedx(
        ("pkg:pypi/requests", "2.31.0"),
        ("pkg:pypi/requests", "2.32.0"),  # two versions of one package
        ("pkg:pypi/Requests", "2.32.0"),  # the same package, named another way
        ("name:vendored-lib", "1.0"),
        ("name:vendored-lib", "1.1"),
    )
    first = store(session, make_company(session), "web-shop", document)
    assert first.diff["first"] is True
    assert (first.diff["added_count"], first.diff["added"]) == (2, [])


def test_upload_history_and_diff(session):
    company = make_company(session)
    first = store(session, company, "web-shop", V1, filename="v1.json", project_version="1.0")
    assert first.created and first.product.name == "web-shop"
    assert first.summary["components"] == 3 and first.summary["packages"] == 3
    assert first.diff["first"] is True and first.diff["added_count"] == 3

    second = store(session, company, "web-shop", V2)
    assert second.product.id == first.product.id
    diff = second.diff
    assert diff["first"] is False and diff["previous_sbom_id"] == first.sbom.id
    assert (diff["added_count"], diff["removed_count"], diff["changed_count"]) == (1, 1, 1)
    assert diff["unchanged_count"] == 1
    assert diff["added"] == [{"package": "pkg:pypi/click", "versions": ["8.1.0"]}]
    assert diff["removed"] == [{"package": "pkg:pypi/urllib3", "versions": ["2.0.0"]}]
    assert diff["changed"] == [
        {"package": "pkg:pypi/requests", "from": ["2.31.0"], "to": ["2.32.0"]}
    ]

    history = services.product_history(session, company, first.product)
    assert [s.id for s in history] == [second.sbom.id, first.sbom.id]
    assert history[1].project_version == "1.0" and history[1].filename == "v1.json"
    assert services.latest_sboms(session, company) == [history[0]]
    stored = session.get(Sbom, second.sbom.id)
    assert stored.diff == diff and stored.summary["format"] == "cyclonedx"
    assert stored.component_count == 3 and stored.company_id == company.id

    events = session.exec(select(Event).where(Event.action == "sbom.uploaded")).all()
    assert len(events) == 2 and events[-1].details["added"] == 1
    assert session.exec(select(Event).where(Event.action == "product.created")).one()


def test_reupload_of_the_same_bytes_is_idempotent(session):
    company = make_company(session)
    first = store(session, company, "api", V1)
    before = counts(session)
    again = store(session, company, "api", V1)
    assert again.created is False
    assert again.sbom.id == first.sbom.id
    assert (again.summary, again.diff) == (first.summary, first.diff)
    assert counts(session) == before
    # The same bytes for another product are that product's SBOM.
    assert store(session, company, "other", V1).created


def test_a_malformed_file_stores_nothing(session):
    data = corpus_file("malformed/cdx-dt-truncated.json")
    company = make_company(session)
    store(session, company, "existing", V1)
    before = counts(session)
    for product in ("existing", "brand-new"):
        with pytest.raises(SbomError) as caught:
            ingest(session, ACTOR, company, product, data, source="web")
        assert caught.value.code == "invalid_json"
        assert "line 2, column 28" in caught.value.message
        session.rollback()
        assert counts(session) == before


def test_bad_product_names_are_refused_before_anything_is_stored(session):
    company = make_company(session)
    before = counts(session)
    for name in ("", "   ", "x" * 201, "tab\tname"):
        with pytest.raises(IngestError) as caught:
            ingest(session, ACTOR, company, name, V1, source="web")
        assert caught.value.code == "invalid_product"
    assert counts(session) == before


def test_packages_are_shared_across_companies_and_tenants_stay_apart(session):
    acme, other = make_company(session), make_company(session)
    mine = store(session, acme, "shop", V1)
    theirs = store(session, other, "shop", V1)
    assert mine.product.id != theirs.product.id
    keys = session.exec(select(Package.key).order_by(Package.key)).all()
    assert keys == ["pkg:pypi/flask", "pkg:pypi/requests", "pkg:pypi/urllib3"]
    assert [row.product.name for row in services.products_of(session, other)] == ["shop"]
    assert services.products_of(session, other)[0].product.id == theirs.product.id
    assert services.product_by_id(session, other, mine.product.id) is None
    assert services.product_by_uuid(session, other, mine.product.uuid) is None
    assert services.sbom_of_product(session, other, theirs.product, mine.sbom.id) is None


def test_components_without_purl_keep_their_identity(session):
    company = make_company(session)
    data = cyclonedx(("pkg:npm/left-pad", "1.3.0"), ("name:internal-lib", "2.0"), ("name:x", None))
    result = store(session, company, "mixed", data)
    rows = session.exec(select(SbomComponent).where(SbomComponent.sbom_id == result.sbom.id)).all()
    by_name = {row.name: row for row in rows}
    assert by_name["left-pad"].package_id is not None and by_name["left-pad"].identity is None
    assert by_name["left-pad"].purl == "pkg:npm/left-pad@1.3.0" and by_name["left-pad"].depth == 1
    assert by_name["internal-lib"].package_id is None
    assert by_name["internal-lib"].identity == "name:internal-lib"
    assert by_name["x"].version is None
    page = inventory(session, result.sbom, filters=InventoryFilters(unresolved_only=True))
    assert page.total == 2 and {line.name for line in page.lines} == {"internal-lib", "x"}
    # Removing a no-purl component shows up in the next diff by its identity.
    later = store(session, company, "mixed", cyclonedx(("pkg:npm/left-pad", "1.3.0")))
    removed = [item["package"] for item in later.diff["removed"]]
    assert removed == ["name:internal-lib", "name:x"]


def test_inventory_pages_and_filters(session):
    company = make_company(session)
    packages = [(f"pkg:npm/pkg-{i:02d}", "1.0.0") for i in range(23)]
    packages += [("pkg:pypi/requests", "2.0"), ("pkg:pypi/requests", "2.1")]
    result = store(session, company, "paged", cyclonedx(*packages))
    first = inventory(session, result.sbom, page=1, per_page=10)
    assert (first.total, first.pages, len(first.lines)) == (25, 3, 10)
    assert first.lines[0].package_key == "pkg:npm/pkg-00"
    last = inventory(session, result.sbom, page=3, per_page=10)
    assert [(line.name, line.version) for line in last.lines] == [
        ("pkg-20", "1.0.0"),
        ("pkg-21", "1.0.0"),
        ("pkg-22", "1.0.0"),
        ("requests", "2.0"),
        ("requests", "2.1"),
    ]
    assert first.ecosystems == [("npm", 23), ("pypi", 2)]
    pypi = inventory(session, result.sbom, filters=InventoryFilters(ecosystem="pypi"))
    assert pypi.total == 2
    text = inventory(session, result.sbom, filters=InventoryFilters(text="PKG-1"))
    assert text.total == 10
    direct = inventory(session, result.sbom, filters=InventoryFilters(direct_only=True))
    assert direct.total == 25


@pytest.mark.parametrize(
    "relative",
    [
        "cyclonedx-json/trivy-0.54.1-dt-issue4455.cdx-1.6.json",
        "cyclonedx-xml/dropwizard-1.3.15.cdx-1.2.xml",
        "spdx-json/sbom-tool-nuget-manifest.spdx-2.2.json",
        "spdx-tagvalue/spdx-spec-example-v2.3.spdx",
        "spdx3-jsonld/cargo-hello-server.spdx3.json",
    ],
)
def test_corpus_files_are_stored_whole(session, relative):
    require_corpus()
    row = next(r for r in corpus_rows() if r["file"] == relative)
    company = make_company(session)
    result = store(session, company, "corpus", corpus_file(relative))
    components = session.exec(
        select(SbomComponent).where(SbomComponent.sbom_id == result.sbom.id)
    ).all()
    expected, with_purl = expected_counts(row)
    assert len(components) == expected == result.sbom.component_count
    assert sum(1 for c in components if c.purl) == with_purl


def test_diff_is_pure_and_capped():
    previous = versions_by_package([("a", "1"), ("b", "1"), ("b", "2"), ("gone", None)])
    current = versions_by_package([("a", "1"), ("b", "2"), ("new", None), ("new", "0.1")])
    diff = compute_diff(previous, current, previous_sbom_id=7)
    assert diff["changed"] == [{"package": "b", "from": ["1", "2"], "to": ["2"]}]
    assert diff["added"] == [{"package": "new", "versions": [None, "0.1"]}]
    assert diff["removed"] == [{"package": "gone", "versions": [None]}]
    assert (diff["unchanged_count"], diff["previous_sbom_id"]) == (1, 7)
    many = compute_diff({}, {f"p{i}": {"1"} for i in range(150)}, cap=100)
    assert many["added_count"] == 150 and len(many["added"]) == 100 and many["truncated"]
    assert compute_diff(None, current)["first"] is True


@pytest.mark.postgres
def test_postgresql_bulk_paths(fresh_postgres_url):
    """PostgreSQL copies packages through a staging table and components straight in."""
    from service.companies.models import Company
    from service.db import Database

    database = Database(fresh_postgres_url)
    try:
        database.upgrade()
        with database.transaction() as session:
            company = Company(slug="pg", name="PG")
            session.add(company)
            session.flush()
            data = cyclonedx(("pkg:pypi/requests", "2.31.0"), ("name:internal", "1"))
            first = ingest(session, ACTOR, company, "svc", data, source="cli")
            first_id = first.sbom.id
        with database.transaction() as session:
            company = session.exec(select(Company).where(Company.slug == "pg")).one()
            second = ingest(session, ACTOR, company, "svc", V2, source="cli")
            # A second upload in the same transaction: the staging table is gone already.
            ingest(session, ACTOR, company, "other", V1, source="cli")
            assert second.diff["removed"] == [{"package": "name:internal", "versions": ["1"]}]
            assert second.diff["changed"][0]["package"] == "pkg:pypi/requests"
            rows = session.exec(
                select(SbomComponent).where(SbomComponent.sbom_id == first_id)
            ).all()
            assert sorted((r.name, r.identity, r.hints == []) for r in rows) == [
                ("internal", "name:internal", True),
                ("requests", None, True),
            ]
            assert session.exec(select(func.count()).select_from(Package)).one() == 4
    finally:
        database.engine.dispose()


@pytest.mark.postgres
def test_uploads_adding_the_same_new_package_at_once_both_store_it(fresh_postgres_url):
    """The second upload's insert waits on the first's uncommitted package, fails on its
    key once the first commits, and is made again skipping it: both get the one id."""
    from sqlmodel import Session

    from service.db import Database
    from service.sboms.storage import store_packages

    database = Database(fresh_postgres_url)
    database.upgrade()
    shared, own = ("pkg:npm/shared", ("npm", "shared")), ("pkg:npm/own", ("npm", "own"))
    second: dict[str, int] = {}
    failure: list[BaseException] = []

    def store_second() -> None:
        with Session(database.engine) as session:
            try:
                second.update(store_packages(session, dict([shared, own])))
                session.commit()
            except BaseException as error:  # handed to the test's thread
                failure.append(error)

    try:
        with Session(database.engine) as first_session:
            first = store_packages(first_session, dict([shared]))
            thread = threading.Thread(target=store_second)
            thread.start()
            wait_until_a_session_waits_on_a_lock(database)
            first_session.commit()
        thread.join(timeout=60)
        assert not failure
        assert second["pkg:npm/shared"] == first["pkg:npm/shared"]
        with Session(database.engine) as session:
            stored = dict(session.exec(select(Package.key, Package.id)).all())
        assert stored == second
    finally:
        database.engine.dispose()


def test_uploads_in_one_transaction_share_new_packages(session):
    """Several uploads before one commit (the demo, imports): each finds the other's rows."""
    company = make_company(session)
    first = ingest(session, ACTOR, company, "web", V1, source="cli")
    second = ingest(session, ACTOR, company, "api", V2, source="cli")
    session.commit()
    ids = dict(session.exec(select(Package.key, Package.id)).all())
    assert len(ids) == 4  # requests and flask are shared

    def stored(result):
        rows = session.exec(
            select(SbomComponent.name, SbomComponent.package_id).where(
                SbomComponent.sbom_id == result.sbom.id
            )
        )
        return sorted(rows)

    assert stored(first) == sorted(
        [
            ("flask", ids["pkg:pypi/flask"]),
            ("requests", ids["pkg:pypi/requests"]),
            ("urllib3", ids["pkg:pypi/urllib3"]),
        ]
    )
    assert stored(second) == sorted(
        [
            ("Flask", ids["pkg:pypi/flask"]),
            ("click", ids["pkg:pypi/click"]),
            ("requests", ids["pkg:pypi/requests"]),
        ]
    )


def test_components_of_one_package_keep_their_document_order(session):
    """Rows are written grouped by package; within a package the document order stays."""
    company = make_company(session)
    data = cyclonedx(
        ("pkg:npm/b", "1"),
        ("pkg:npm/a", "1"),
        ("name:first-without-purl", "1"),
        ("pkg:npm/b", "2"),
        ("name:second-without-purl", "1"),
        ("pkg:npm/b", "3"),
    )
    result = store(session, company, "ordered", data)
    rows = session.exec(
        select(SbomComponent.name, SbomComponent.version)
        .where(SbomComponent.sbom_id == result.sbom.id)
        .order_by(SbomComponent.id)
    ).all()
    b = [version for name, version in rows if name == "b"]
    without = [name for name, _version in rows if name.endswith("without-purl")]
    assert b == ["1", "2", "3"]
    assert without == ["first-without-purl", "second-without-purl"]


def test_package_names_are_stored_decoded(session):
    company = make_company(session)
    store(session, company, "scoped", cyclonedx(("pkg:npm/%40babel/core", "7.0.0")))
    package = session.exec(select(Package)).one()
    assert (package.key, package.ecosystem, package.name) == (
        "pkg:npm/%40babel/core",
        "npm",
        "@babel/core",
    )


def test_an_upload_of_a_thousand_components_stores_every_row_in_order(session):
    """SQLite writes 250 component rows a statement and what is left one by one: 1,003
    components (400 packages) are four full statements and three rows on their own."""
    company = make_company(session)
    data = cyclonedx(*((f"pkg:npm/p{index % 400}", f"1.{index}") for index in range(1003)))
    result = store(session, company, "big", data)
    rows = session.exec(
        select(SbomComponent.name, SbomComponent.version, SbomComponent.purl)
        .where(SbomComponent.sbom_id == result.sbom.id)
        .order_by(SbomComponent.id)
    ).all()
    # Grouped by package, in the order of their ids, and in document order within one.
    ids = dict(session.exec(select(Package.key, Package.id)).all())
    packages = sorted(range(400), key=lambda package: ids[f"pkg:npm/p{package}"])
    expected = [
        (f"p{package}", f"1.{index}", f"pkg:npm/p{package}@1.{index}")
        for package in packages
        for index in range(package, 1003, 400)
    ]
    assert [tuple(row) for row in rows] == expected
