"""A company's SBOM speaks for that company only: its vcs/website links apply to its own
inventory, proposal and pages, a registry's link wins over them, and public project pages
show the shared facts alone (the attack of issue #11, through the real ingest, offline
resolution and proposal)."""

from __future__ import annotations

from sqlmodel import select

from service.allocation.generation import generate_proposal
from service.allocation.queries import lines_of
from service.audit.services import Actor
from service.companies.models import Role
from service.projects import services
from service.projects.models import CompanyPackageLink, PackageResolution, Project
from service.projects.providers import PackageMetadata, SnapshotRecord, dump_snapshot
from tests.conftest import login
from tests.factories import make_company, make_user
from tests.projects.conftest import NOW, component, store_sbom
from tests.projects.test_resolution import company_view, resolutions

MALLORY = "https://github.com/mallory/own"


def resolve_offline(app, tmp_path, records=()):
    snapshot = tmp_path / "snapshot.jsonl"
    dump_snapshot(list(records), snapshot)
    with app.app_context():
        database = app.extensions["tributary.db"]
        with database.transaction() as session:
            ids = services.due_package_ids(session, NOW)
        services.run_resolution(database, ids, now=NOW, offline=True, snapshot=snapshot)


def proposal_lines(session, company) -> dict[str, tuple[int, str]]:
    proposal = generate_proposal(session, Actor.system("test"), company, "2026-12", NOW)
    session.commit()
    return {
        line.project_key: (line.amount_minor, line.kind) for line in lines_of(session, proposal.id)
    }


def test_another_companys_sbom_links_never_steer_a_companys_money(app, session, client, tmp_path):
    mallory = make_company(session, slug="company-a", monthly_budget_minor=50_000)
    victim_member = make_user(session)
    victim = make_company(
        session,
        slug="company-b",
        monthly_budget_minor=100_000,
        members=[(victim_member, Role.viewer)],
    )
    store_sbom(
        session,
        mallory,
        [
            component("pkg:deb/debian/libbar@1.0", hints=[("vcs", MALLORY)]),
            component("pkg:npm/shared-widget@2.0", hints=[("vcs", MALLORY)]),
        ],
    )
    store_sbom(
        session,
        victim,
        [
            component(
                "pkg:deb/debian/libbar@1.0", hints=[("vcs", "https://github.com/upstream/libbar")]
            ),
            component("pkg:npm/shared-widget@2.0"),
        ],
    )
    resolve_offline(app, tmp_path)

    # The shared resolution holds no company's assertion.
    shared = resolutions(session)
    assert shared["pkg:deb/debian/libbar"][3] is None
    assert shared["pkg:npm/shared-widget"][3] is None
    # Each company sees its own links, and only its own.
    seen = company_view(session, victim)
    assert seen["pkg:deb/debian/libbar"] == ("resolved", "sbom", None, "github.com/upstream/libbar")
    assert seen["pkg:npm/shared-widget"][0] == "unresolved"
    assert seen["pkg:npm/shared-widget"][3] is None
    assert company_view(session, mallory)["pkg:npm/shared-widget"][3] == "github.com/mallory/own"

    # B's whole budget goes to the repository B's own SBOM named; A's to A's.
    assert proposal_lines(session, victim) == {"github.com/upstream/libbar": (100_000, "held")}
    assert proposal_lines(session, mallory) == {"github.com/mallory/own": (50_000, "held")}
    # Public pages show shared facts only: no page reveals what a company's SBOM links.
    assert client.get("/projects/github.com/mallory/own").status_code == 404
    assert client.get("/projects/github.com/upstream/libbar").status_code == 404
    # A company's own members open the page their proposal links to; nobody else does.
    login(client, victim_member)
    assert client.get("/projects/github.com/upstream/libbar").status_code == 200
    assert client.get("/projects/github.com/mallory/own").status_code == 404


def test_a_registry_link_wins_over_a_companys_own_link(app, session, tmp_path):
    company = make_company(session)
    store_sbom(
        session,
        company,
        [component("pkg:npm/left-pad@1.3.0", hints=[("vcs", MALLORY)])],
    )
    record = SnapshotRecord(
        "npm",
        "pkg:npm/left-pad",
        NOW,
        PackageMetadata(repository_url="https://github.com/left-pad/left-pad"),
    )
    resolve_offline(app, tmp_path, [record])
    assert company_view(session, company)["pkg:npm/left-pad"][1:] == (
        "npm",
        None,
        "github.com/left-pad/left-pad",
    )
    assert proposal_lines(session, company) == {"github.com/left-pad/left-pad": (100_000, "held")}


def test_a_new_upload_replaces_the_companys_links_at_once(app, session, tmp_path):
    company = make_company(session)
    store_sbom(session, company, [component("pkg:deb/debian/zlib@1", hints=[("vcs", MALLORY)])])
    resolve_offline(app, tmp_path)
    store_sbom(
        session,
        company,
        [component("pkg:deb/debian/zlib@1", hints=[("vcs", "https://github.com/madler/zlib")])],
        product="web",
    )
    # The package is fresh in the shared resolution; the new upload's link counts anyway.
    with app.app_context():
        from service.jobs.queue import run_pending

        run_pending(app.extensions["tributary.db"], now=NOW)
    links = session.exec(
        select(Project.key)
        .join(CompanyPackageLink, CompanyPackageLink.project_id == Project.id)
        .where(CompanyPackageLink.company_id == company.id)
    ).all()
    assert links == ["github.com/madler/zlib"]
    assert session.exec(select(PackageResolution.source)).all() == [None]
