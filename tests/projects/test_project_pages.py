"""Pages: the public project page (escaped metadata), company projects (tenant-scoped),
product resolution progress that refreshes itself while work is pending."""

from __future__ import annotations

from sqlmodel import select

from service.companies.models import Role
from service.projects.models import Project
from tests.conftest import login
from tests.factories import make_company, make_user
from tests.projects.conftest import component, store_sbom
from tests.projects.test_resolution import drain


def test_public_project_page_needs_no_sign_in_and_escapes_metadata(app, client, session, providers):
    company = make_company(session)
    store_sbom(session, company, [component("pkg:npm/xss-pkg@1.0.0")])
    drain(app)
    project = session.exec(select(Project).where(Project.key == "github.com/xss/xss-pkg")).one()
    project.description = '<script>alert("d")</script> a <b>bold</b> claim'
    project.homepage = "javascript:alert(3)"
    session.add(project)
    session.commit()

    page = client.get("/projects/github.com/xss/xss-pkg")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&#34;d&#34;)&lt;/script&gt; a &lt;b&gt;bold&lt;/b&gt;" in html
    assert "&lt;script&gt;alert(&#39;m&#39;)&lt;/script&gt;" in html  # an npm maintainer
    assert 'href="javascript' not in html  # shown as text, never as a link
    assert "javascript:alert(3)" in html
    # Packages, people and channels with where each was found.
    assert "pkg:npm/xss-pkg" in html
    assert "octo-maint" in html and "FUNDING.yml" in html
    assert 'href="https://github.com/xss/xss-pkg"' in html
    assert "No one has claimed this project yet." in html
    assert company.name not in html  # which companies depend on it is theirs to know


def test_unknown_project_is_404(client):
    assert client.get("/projects/github.com/nobody/nothing").status_code == 404


def test_company_projects_are_tenant_scoped(app, client, session, providers):
    alice, bob = make_user(session), make_user(session)
    mine = make_company(session, members=[(alice, Role.viewer)])
    theirs = make_company(session, members=[(bob, Role.owner)])
    store_sbom(session, mine, [component("pkg:pypi/requests@2.32.3")])
    store_sbom(session, theirs, [component("pkg:cargo/serde@1.0.203")])
    drain(app)
    login(client, alice)
    page = client.get(f"/c/{mine.slug}/projects").get_data(as_text=True)
    assert "github.com/psf/requests" in page
    assert "serde" not in page
    assert client.get(f"/c/{theirs.slug}/projects").status_code == 404
    home = client.get(f"/c/{mine.slug}/").get_data(as_text=True)
    assert "1 of 1 packages resolved" in home


def test_product_page_shows_progress_and_refreshes_while_pending(app, client, session, providers):
    alice = make_user(session)
    company = make_company(session, members=[(alice, Role.reviewer)])
    sbom = store_sbom(
        session,
        company,
        [component("pkg:pypi/requests@2.32.3"), component("pkg:pypi/no-repo@1.0")],
    )
    login(client, alice)
    url = f"/c/{company.slug}/products/{sbom.product_id}/resolution"
    pending = client.get(url).get_data(as_text=True)
    assert '<meta http-equiv="refresh" content="5">' in pending
    assert "<strong>0 / 2</strong>" in pending

    drain(app)
    done = client.get(url).get_data(as_text=True)
    assert 'http-equiv="refresh"' not in done
    assert "<strong>2 / 2</strong>" in done
    assert "github.com/psf/requests" in done
    assert "pkg:pypi/no-repo" in done and "no repository link from pypi" in done


def test_viewers_cannot_queue_resolution_and_other_tenants_see_nothing(
    app, client, session, providers
):
    viewer, outsider = make_user(session), make_user(session)
    company = make_company(session, members=[(viewer, Role.viewer)])
    make_company(session, members=[(outsider, Role.owner)])
    sbom = store_sbom(session, company, [component("pkg:pypi/requests@2.32.3")])
    url = f"/c/{company.slug}/products/{sbom.product_id}/resolution"
    login(client, viewer)
    from tests.conftest import post_form

    assert post_form(client, app, url).status_code == 403
    login(client, outsider)
    assert client.get(url).status_code == 404


def test_inventory_progress_counts_statuses_components_without_purl_and_queued_work(
    app, session, providers
):
    from service.projects.services import inventory_progress

    company = make_company(session)
    sbom = store_sbom(
        session,
        company,
        [
            component("pkg:pypi/requests@2.32.3"),
            component("pkg:pypi/no-repo@1.0"),
            {"name": "vendored", "version": "1.0"},  # no purl: never resolvable
        ],
    )
    pending = inventory_progress(session, [sbom.id])
    assert (pending.total, pending.pending, pending.without_purl) == (2, 2, 1)
    assert pending.queued and pending.refreshing

    drain(app)
    session.expire_all()
    done = inventory_progress(session, [sbom.id])
    assert (done.total, done.resolved, done.unresolved, done.pending) == (2, 1, 1, 0)
    assert (done.without_purl, done.queued) == (1, False)
    assert inventory_progress(session, []).total == 0
