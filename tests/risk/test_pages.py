"""Risk pages: the dependency table, exposure, a project's breakdown, weights; tenancy."""

from __future__ import annotations

import re

import pytest
from sqlmodel import select

from service.companies.models import Role
from service.jobs.models import Task
from service.risk.models import CompanyExposureSnapshot, RiskSnapshot, RiskWeights
from service.risk.services import recompute_company
from tests.conftest import login, post_form
from tests.factories import make_company, make_membership, make_user
from tests.risk.data import (
    FETCHED_ISO,
    NOW,
    acme_scenario,
    cache_row,
    funding_channel,
    make_project,
    resolve,
    upload,
)


@pytest.fixture
def acme(session):
    viewer = make_user(session, "viewer-v")
    reviewer = make_user(session, "reviewer-r")
    company = make_company(
        session, "acme", name="Acme", members=[(viewer, Role.viewer), (reviewer, Role.reviewer)]
    )
    projects = acme_scenario(session, company)
    recompute_company(session, company, now=NOW)
    session.commit()
    return company, projects, viewer, reviewer


def text(response) -> str:
    return response.get_data(as_text=True)


def test_dependency_table_page(client, acme):
    _company, _, viewer, _ = acme
    login(client, viewer)
    html = text(client.get("/c/acme/dependencies"))
    assert '<h2 id="count">4 of 4 packages</h2>' in html
    rows = html.split("<tbody>")[1]
    assert "github.com/left/pad" in rows
    assert '<span class="pill warn">pending</span>' in rows  # unknown-thing: not resolved yet
    # Sort links keep the filters and flip the order of the active column.
    filtered = text(client.get("/c/acme/dependencies?ecosystem=pypi&sort=depth"))
    assert '<h2 id="count">2 of 4 packages</h2>' in filtered
    assert "sort=depth" in filtered and "order=desc" in filtered and "ecosystem=pypi" in filtered
    assert 'aria-sort="ascending"' in filtered
    bad = client.get("/c/acme/dependencies?risk_min=lots&depth=9")
    assert bad.status_code == 200
    assert "risk_min: expected a number from 0 to 100" in text(bad)
    assert "depth: expected one of 1, 2, 3+, unknown" in text(bad)
    assert '<h2 id="count">4 of 4 packages</h2>' in text(bad)


def test_exposure_page(client, acme):
    _company, _, viewer, _ = acme
    login(client, viewer)
    response = client.get("/c/acme/risk")
    html = text(response)
    assert response.status_code == 200
    assert "no pledges recorded yet" in html
    assert "286.5" in html  # 3 x 80.7 + 0.5 x 18.8 + 1 x 35.0
    assert "One day so far" in html and "<svg" not in html  # one computation: no lone dot
    assert "<script" not in html and "<style" not in html  # CSP: no inline script or style
    top = html.split("Top unfunded risks")[1]
    assert top.index("github.com/left/pad") < top.index("github.com/tiny/tiny")
    assert "github.com/fw/framework" not in top.split("How this is computed")[0]
    assert "Recompute now" not in html  # viewers cannot recompute


def test_recompute_needs_reviewer(client, session, acme):
    company, _, viewer, reviewer = acme
    login(client, viewer)
    assert post_form(client, client.application, "/c/acme/risk/recompute").status_code == 403
    login(client, reviewer)
    assert "Recompute now" in text(client.get("/c/acme/risk"))
    response = post_form(client, client.application, "/c/acme/risk/recompute")
    assert response.status_code == 302
    assert "Risk recomputed: 3 projects" in text(client.get(response.location))
    today = session.exec(
        select(CompanyExposureSnapshot).where(CompanyExposureSnapshot.company_id == company.id)
    ).all()
    assert len(today) >= 1
    # Without a CSRF token the form is refused.
    assert client.post("/c/acme/risk/recompute").status_code == 400


def test_project_breakdown_in_words(client, acme):
    _company, projects, viewer, _ = acme
    login(client, viewer)
    html = text(client.get(f"/c/acme/risk/projects/{projects['left'].id}"))
    assert "used directly by 3 of 4 products" in html
    assert "one person can publish (source: npm)" in html
    assert "no release for 26 months (source: npm)" in html
    assert "80.7" in html and "86% of the total weight had data" in html
    assert FETCHED_ISO in html and "deps.dev" in html
    for header in ("Signal", "Raw", "Normalized", "Weight", "Contribution", "Source", "Fetched at"):
        assert f"<th>{header}</th>" in html or f'<th class="num">{header}</th>' in html
    assert "No data: downloads, criticality" in html
    assert "<script" not in html and "<style" not in html


def test_metadata_is_escaped_on_the_breakdown_page(client, session):
    user = make_user(session)
    company = make_company(session, "evil", members=[(user, Role.viewer)])
    upload(session, company, "app", ["pkg:npm/evil"])
    project = make_project(session, 'github.com/evil/"><img src=x onerror=alert(1)>')
    resolve(session, "pkg:npm/evil", project)
    funding_channel(session, project, source="<script>alert('source')</script>")
    cache_row(session, "npm", "pkg:npm/evil", publishers_count=2)
    recompute_company(session, company, now=NOW)
    session.commit()
    login(client, user)
    for url in (f"/c/evil/risk/projects/{project.id}", "/c/evil/dependencies", "/c/evil/risk"):
        html = text(client.get(url))
        assert "<img src=x" not in html and "<script" not in html, url
    html = text(client.get(f"/c/evil/risk/projects/{project.id}"))
    assert "&lt;script&gt;alert(" in html
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in html


def test_weights_page_validates_and_saves(client, session, acme):
    company, _, viewer, reviewer = acme
    login(client, viewer)
    page = text(client.get("/c/acme/risk/weights"))
    assert "disabled" in page and "default 15" in page
    assert post_form(client, client.application, "/c/acme/risk/weights").status_code == 403

    login(client, reviewer)  # the weights are the owners' to change
    assert post_form(client, client.application, "/c/acme/risk/weights").status_code == 403
    owner = make_user(session, "owner-o")
    make_membership(session, company, owner, role=Role.owner)
    login(client, owner)
    form = {name: "5" for name in re.findall(r'inputmode="decimal" name="([a-z_]+)"', page)}
    assert "publishers" in form and len(form) == 13
    bad = post_form(
        client, client.application, "/c/acme/risk/weights", {**form, "publishers": "lots"}
    )
    assert bad.status_code == 400
    assert "weights.publishers: expected a number, got &#39;lots&#39;" in text(bad)
    negative = post_form(
        client, client.application, "/c/acme/risk/weights", {**form, "direct": "-2"}
    )
    assert negative.status_code == 400
    assert "weights.direct: expected a finite number &gt;= 0, got -2.0" in text(negative)
    assert session.get(RiskWeights, company.id) is None

    saved = post_form(
        client, client.application, "/c/acme/risk/weights", {**form, "publishers": "40"}
    )
    assert saved.status_code == 302
    queued = session.exec(select(Task).where(Task.kind == "risk.recompute_company")).all()
    assert [t.unique_key for t in queued] == [f"risk:company:{company.id}"]
    row = session.get(RiskWeights, company.id)
    session.refresh(row)
    # Only the weights that differ from the defaults are stored (direct's default is 5).
    assert row.weights["publishers"] == 40.0 and row.weights["products_using"] == 5.0
    assert "direct" not in row.weights
    assert 'value="40"' in text(client.get(saved.location))
    reset = post_form(client, client.application, "/c/acme/risk/weights", {"reset": "1"})
    assert reset.status_code == 302
    session.refresh(row)
    assert row.weights == {}


def test_company_home_and_nav_show_risk(client, acme):
    _, _, viewer, _ = acme
    login(client, viewer)
    html = text(client.get("/c/acme/"))
    assert '<a href="/c/acme/risk">286.5</a>' in html and "3 projects on" in html  # exposure tile
    assert 'href="/c/acme/risk"' in html


def test_members_of_one_company_get_404_on_anothers_risk(client, session, acme):
    company, projects, _viewer, _ = acme
    outsider = make_user(session, "outsider")
    make_company(session, "other", members=[(outsider, Role.owner)])
    other_project = make_project(session, "github.com/only/other")
    session.add(
        RiskSnapshot(
            company_id=company.id,
            project_id=other_project.id,
            taken_on=NOW.date(),
            inputs_digest="x",
        )
    )
    session.commit()
    login(client, outsider)
    for url in (
        "/c/acme/dependencies",
        "/c/acme/risk",
        f"/c/acme/risk/projects/{projects['left'].id}",
        "/c/acme/risk/weights",
    ):
        assert client.get(url).status_code == 404, url
    assert post_form(client, client.application, "/c/acme/risk/recompute").status_code == 404
    # A project another company depends on is not visible through one's own slug.
    assert client.get(f"/c/other/risk/projects/{projects['left'].id}").status_code == 404
    assert client.get(f"/c/other/risk/projects/{other_project.id}").status_code == 404
