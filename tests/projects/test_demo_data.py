"""The demo's data files: real SBOMs that ingest, a snapshot that resolves them offline,
and a project the demo maintainer can claim."""

from __future__ import annotations

import importlib.util
import io
import json
import warnings
from datetime import UTC, datetime

import pytest
from sqlmodel import select

from service.audit.services import Actor
from service.demo import DEMO_SNAPSHOT
from service.demo.github import demo_github
from service.projects import claims, services
from service.projects.models import Project
from service.projects.providers import dump_snapshot, load_snapshot
from service.sboms.services import ingest
from tests.conftest import REPO_ROOT
from tests.factories import make_company, make_user
from tests.projects.conftest import NOW

DATA = DEMO_SNAPSHOT.parent
GITHUB_FACTS = REPO_ROOT.parent / "shared" / "demo-data" / "github-facts.jsonl"


def build_script():
    spec = importlib.util.spec_from_file_location(
        "build_demo_data", REPO_ROOT / "scripts" / "build_demo_data.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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


def test_the_snapshot_holds_the_repositories_facts_as_githubs_answers():
    records = load_snapshot(DEMO_SNAPSHOT)
    accepts = records[("github", "pkg:github/jshttp/accepts")]
    assert accepts.fetched_at == datetime(2026, 12, 1, tzinfo=UTC)
    facts = accepts.metadata
    assert (
        facts.created_at,
        facts.pushed_at,
        facts.commits_last_year,
        facts.active_contributors,
        facts.contributors_count,
        facts.org_count,
        facts.releases_last_year,
        facts.security_policy,
        facts.license,
    ) == (
        datetime(2013, 12, 27, 21, 42, 29, tzinfo=UTC),
        datetime(2026, 4, 2, 16, 3, 2, tzinfo=UTC),
        12,
        6,
        16,
        2,
        0,
        False,
        "LICENSE",
    )
    assert facts.contributors[0].name == "Blake Embrey"
    # Its newest commit is from 2018: nothing happened in the year before the reading.
    ee_first = records[("github", "pkg:github/jonathanong/ee-first")].metadata
    assert (ee_first.commits_last_year, ee_first.active_contributors, ee_first.contributors) == (
        0,
        0,
        (),
    )
    # FUNDING.yml as written in the repository, placeholders left out.
    funding = records[("github", "pkg:github/ljharb/async-function")].metadata.funding
    assert [(c.kind, c.handle_or_url, c.source) for c in funding] == [
        ("github_sponsors", "ljharb", "FUNDING.yml"),
        ("tidelift", "npm/async-function", "FUNDING.yml"),
    ]
    # Repositories too large to read have no answer rather than an empty one.
    assert ("github", "pkg:github/react/react") not in records
    assert (DATA / "github-facts.md").read_text().startswith("# Real facts about")


def test_the_committed_snapshot_is_what_the_build_script_folds():
    if not GITHUB_FACTS.exists():
        pytest.skip(f"shared demo data not found at {GITHUB_FACTS}")
    module = build_script()
    records = load_snapshot(DEMO_SNAPSHOT)
    expected = {pair: r for pair, r in records.items() if r.source == "github"}
    assert {(r.source, r.key): r for r in module.github_records(GITHUB_FACTS)} == expected
    written = io.StringIO()
    dump_snapshot(records.values(), written)
    assert written.getvalue() == DEMO_SNAPSHOT.read_text()
