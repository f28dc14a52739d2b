"""The demo's data files: real SBOMs that ingest, a snapshot that resolves them offline,
and a project the demo maintainer can claim."""

from __future__ import annotations

import json
import warnings

from sqlmodel import select

from service.audit.services import Actor
from service.demo import DEMO_SNAPSHOT
from service.demo.github import demo_github
from service.projects import claims, services
from service.projects.models import Project
from service.projects.providers import load_snapshot
from service.sboms.services import ingest
from tests.factories import make_company, make_user
from tests.projects.conftest import NOW

DATA = DEMO_SNAPSHOT.parent


def test_files_are_small_and_the_snapshot_covers_them():
    for path in DATA.iterdir():
        assert path.stat().st_size < 1_000_000, path.name
    records = load_snapshot(DEMO_SNAPSHOT)
    cdx = json.loads((DATA / "storefront-web.cdx.json").read_text())
    spdx = json.loads((DATA / "data-pipeline.spdx.json").read_text())
    assert cdx["specVersion"] == "1.5" and len(cdx["components"]) > 50
    assert spdx["spdxVersion"] == "SPDX-2.3"
    npm_keys = {c["purl"].rsplit("@", 1)[0] for c in cdx["components"]}
    assert npm_keys <= {key for source, key in records if source == "npm"}
    for name in ("flask", "sqlalchemy", "httpx", "pydantic", "alembic", "pandas", "requests"):
        assert ("pypi", f"pkg:pypi/{name}") in records, name
    # Facts only: no e-mail address is kept.
    assert "@" not in "".join(
        p.email or "" for r in records.values() for p in r.metadata.maintainers
    )


def test_demo_sboms_resolve_offline(app, session, registries):
    company = make_company(session)
    for name, product in (
        ("storefront-web.cdx.json", "storefront-web"),
        ("data-pipeline.spdx.json", "data-pipeline"),
    ):
        ingest(
            session,
            Actor.system("test"),
            company,
            product,
            (DATA / name).read_bytes(),
            source="cli",
        )
    session.commit()
    database = app.extensions["tributary.db"]
    with app.app_context():
        ids = services.due_package_ids(session, NOW)
        report = services.run_resolution(database, ids, now=NOW, snapshot=DEMO_SNAPSHOT)
    assert report.requests == {} and registries.counts() == {}
    assert report.packages > 90
    assert report.resolved >= 0.9 * report.packages
    assert session.exec(
        select(Project).where(Project.key == "github.com/jonathanong/ee-first")
    ).one()


def test_the_demo_maintainer_can_claim_ee_first(session):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        github = demo_github()
    project = Project(
        key="github.com/jonathanong/ee-first",
        host="github.com",
        owner="jonathanong",
        name="ee-first",
        repository_url="https://github.com/jonathanong/ee-first",
    )
    session.add(project)
    user = make_user(session, "demo-maintainer")
    created = claims.claim(
        session,
        Actor(user_id=user.id),
        user,
        project,
        github=github,
        token="demo-maintainer",  # the demo's token is the seeded person's login
        github_host="github.com",
    )
    assert created.evidence == "maintain"
    assert github.user_exists("demo-maintainer") and not github.user_exists("nobody-here")
