"""Importing GitHub dependency graphs of a linked organisation, against the fake GitHub."""

from __future__ import annotations

import re

import pytest
from sqlmodel import select

from service.audit.models import Event
from service.companies.models import LinkedOrg, Role
from service.jobs.models import Task
from service.jobs.queue import run_pending
from service.sboms.github_import import IMPORT_TASK
from service.sboms.models import GitHubImport, Product, Sbom
from tests.conftest import login, post_form
from tests.factories import make_company, make_linked_org, make_user
from tests.sboms.documents import github_spdx


@pytest.fixture
def setup(app, session, fake_github):
    owner, reviewer = make_user(session, "olive"), make_user(session, "rafa")
    company = make_company(
        session, "acme", members=[(owner, Role.owner), (reviewer, Role.reviewer)]
    )
    session.add(LinkedOrg(company_id=company.id, org_login="acme-gh", linked_by_id=owner.id))
    fake_github.add_user("olive", orgs={"acme-gh": "admin"})
    github_token = fake_github.token_for("olive")
    owner.github_token_encrypted = app.extensions["tributary.secrets"].seal(github_token)
    session.add(owner)
    session.commit()
    fake_github.add_repo(
        "acme-gh/storefront",
        sbom=github_spdx(
            "acme-gh/storefront", ("pkg:npm/express", "4.18.2"), ("pkg:npm/lodash", "4.17.21")
        ),
    )
    fake_github.add_repo("acme-gh/legacy", sbom_status=404)
    fake_github.add_repo("acme-gh/vault", sbom_status=403)
    fake_github.add_repo("acme-gh/weird", sbom={"spdxVersion": 2})
    fake_github.add_repo("someone-else/storefront", sbom=github_spdx("someone-else/storefront"))
    fake_github.max_per_page = 2  # four repositories: two pages
    return company, owner, reviewer, github_token


def start_import(client, app, org="acme-gh"):
    return post_form(client, app, "/c/acme/products/import-github", {"org": org})


def run_import(client, app, org="acme-gh"):
    """Queue the import as the page does, let a worker run it, read the page it led to."""
    queued = start_import(client, app, org)
    if queued.status_code != 303:
        return queued
    assert work(app) == 1
    return client.get(queued.headers["Location"])


def work(app) -> int:
    """What a worker does: run the queued imports (only those: nothing else is faked)."""
    with app.app_context():
        return run_pending(app.extensions["tributary.db"], kinds=[IMPORT_TASK])


def text(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def test_import_stores_each_repo_or_says_why_not(client, app, session, fake_github, setup):
    company, owner, _reviewer, github_token = setup
    login(client, owner)
    response = run_import(client, app)
    assert response.status_code == 200
    page = text(response)
    assert "acme-gh: 4 repositories, 1 imported, 0 unchanged since the last import, 3 not" in page
    assert "acme-gh/storefront" in page and "imported" in page
    assert "dependency graph is disabled" in page and "(github_error)" in page
    assert "acme-gh/weird" in page and "(unsupported_version)" in page
    assert "someone-else" not in page
    assert github_token not in page

    products = session.exec(select(Product).where(Product.company_id == company.id)).all()
    assert [p.name for p in products] == ["storefront"]
    sbom = session.exec(select(Sbom).where(Sbom.product_id == products[0].id)).one()
    assert (sbom.source, sbom.format, sbom.summary["direct"]) == ("github", "spdx", 2)
    assert sbom.uploaded_by_user_id == owner.id
    assert "GET /api/orgs/acme-gh/repos" in fake_github.requests
    assert sum(r.startswith("GET /api/orgs/acme-gh/repos") for r in fake_github.requests) == 2

    event = session.exec(select(Event).where(Event.action == "github.imported")).one()
    assert event.details["imported"] == 1 and event.details["failed"] == 3
    assert github_token not in str(event.details)

    again = text(run_import(client, app))
    assert "0 imported, 1 unchanged" in again
    assert len(session.exec(select(Sbom)).all()) == 1


def test_only_owners_with_a_linked_org_and_a_token_can_import(client, app, session, setup):
    company, owner, reviewer, _token = setup
    login(client, reviewer)
    assert start_import(client, app).status_code == 403

    login(client, owner)
    not_linked = run_import(client, app, org="someone-else")
    assert not_linked.status_code == 400
    assert "linked GitHub organisations" in text(not_linked)

    owner.github_token_encrypted = None
    session.add(owner)
    session.commit()
    no_token = run_import(client, app)
    assert no_token.status_code == 400 and "Sign in with GitHub again" in text(no_token)
    assert session.exec(select(Product).where(Product.company_id == company.id)).all() == []


def test_products_page_offers_the_import_to_owners(client, setup):
    _company, owner, reviewer, _token = setup
    login(client, owner)
    page = client.get("/c/acme/products")
    assert b"Import dependency graphs" in page.data and b"acme-gh" in page.data
    login(client, reviewer)
    assert b"Import dependency graphs" not in client.get("/c/acme/products").data


def test_github_being_down_fails_the_listing_cleanly(client, app, fake_github, setup):
    _company, owner, _reviewer, _token = setup
    fake_github.api_down = True
    login(client, owner)
    response = run_import(client, app)
    assert "the import could not run" in text(response)
    assert "Could not list the repositories of acme-gh: GitHub answered 503" in text(response)


def test_the_offline_demo_can_import_its_organisation(session):
    from service.audit.services import Actor
    from service.demo.github import DEMO_ORG, demo_github
    from service.sboms.github_import import run_import as import_run
    from service.sboms.github_import import start_import as queue_import

    with pytest.warns(RuntimeWarning, match="demo data"):
        github = demo_github()
    owner = make_user(session)
    company = make_company(session)
    make_linked_org(session, company, org_login=DEMO_ORG)
    actor = Actor(user_id=owner.id)
    run = queue_import(session, actor, company, DEMO_ORG, user_id=owner.id, token="demo-owner")
    session.commit()
    import_run(session, run, github=github, token="demo-owner")
    assert {o["product"]: o["status"] for o in run.outcomes} == {
        "billing-api": "imported",
        "legacy-tools": "failed",
        "storefront": "imported",
    }


def test_the_page_follows_a_queued_import_and_a_retry_resumes(client, app, session, setup):
    _company, owner, _reviewer, _token = setup
    login(client, owner)
    queued = start_import(client, app)
    assert queued.status_code == 303  # the request does not wait for the repositories
    page = client.get(queued.headers["Location"])
    assert "queued since" in text(page) and 'http-equiv="refresh"' in text(page)
    # Asking again while it waits follows the same import, queued once.
    again = start_import(client, app)
    assert again.headers["Location"] == queued.headers["Location"]
    tasks = session.exec(select(Task).where(Task.kind == IMPORT_TASK)).all()
    assert len(tasks) == 1 and "token" not in str(tasks[0].payload)

    # A worker that died after the first repository: its run records that one only.
    run = session.exec(select(GitHubImport)).one()
    run.status, run.total = "running", 4
    run.outcomes = [
        {
            "repo": "acme-gh/legacy",
            "product": "legacy",
            "status": "failed",
            "error": "earlier attempt",
            "error_code": "github_error",
        }
    ]
    session.add(run)
    session.commit()
    running = text(client.get(queued.headers["Location"]))
    assert "importing, 1 of 4 repositories done so far" in running
    assert work(app) == 1
    done = text(client.get(queued.headers["Location"]))
    assert "acme-gh: 4 repositories, 1 imported" in done and "earlier attempt" in done
    assert 'http-equiv="refresh"' not in done
    products = text(client.get("/c/acme/products"))
    assert queued.headers["Location"].endswith(f"/import-github/{run.id}")
    assert f'/import-github/{run.id}">acme-gh,' in products and "UTC</a>: done" in products
    session.expire_all()
    assert session.get(GitHubImport, run.id).status == "done"
    assert client.get("/c/acme/products/import-github/999").status_code == 404
