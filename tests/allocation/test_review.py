# ruff: noqa: RUF001 - reasons use the multiplication sign as the engine writes them
"""The review pages: what reviewers see and do, what viewers may not, and tenancy."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlmodel import select

from service.allocation.adjustments import adjust
from service.allocation.generation import generate_proposal
from service.allocation.models import Adjustment, AllocationPolicy, Proposal
from service.allocation.queries import amount_of
from service.allocation.review import approve
from service.audit.services import Actor
from service.core.clock import current_period
from service.pledges.models import Pledge
from tests.allocation.data import acme
from tests.conftest import csrf_token, login, post_form

NOW = datetime(2026, 12, 1, 5, 0, tzinfo=UTC)
PERIOD = "2026-12"


@pytest.fixture
def scenario(session):
    found = acme(session)
    session.add(AllocationPolicy(company_id=found.company.id, policy={"cap": 1}))
    session.commit()
    return found


@pytest.fixture
def proposal(session, scenario):
    made = generate_proposal(
        session, Actor.system("scheduler"), scenario.company, PERIOD, NOW, submit=True
    )
    session.commit()
    return made


def url(scenario, suffix=""):
    return f"/c/{scenario.company.slug}/proposals/{PERIOD}{suffix}"


def lines_in(html: str) -> list[str]:
    return re.findall(r'<tr id="p\d+">\s*<td[^>]*><a href="/projects/([^"]+)"', html)


def test_reviewer_sees_every_line_with_its_explanation(client, scenario, proposal):
    login(client, scenario.reviewer)
    page = client.get(url(scenario))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert lines_in(html) == [
        "github.com/left/pad",
        "github.com/fw/framework",
        "github.com/tiny/tiny",
    ]
    left_id = scenario.projects["left"].id
    assert f'href="/c/{scenario.company.slug}/risk/projects/{left_id}"' in html  # risk page
    assert "publishers 40.0" in html  # the risk breakdown
    assert "claimed by " + scenario.maintainer.login in html  # maintainers
    assert "https://github.com/sponsors/left" in html  # channels
    assert "api (1), web (1)" in html  # products and depth
    assert "650.00" in html and "65.00%" in html
    assert "risk 80 → ×1.30" in html  # the reason
    assert "first-party" in html  # omitted, with the reason
    assert "in review" in html
    assert 'name="decision" value="approve"' in html
    assert "every line is new" in html


def test_sort_and_filter_on_the_server(client, scenario, proposal):
    login(client, scenario.viewer)
    html = client.get(url(scenario, "?sort=project&order=asc")).get_data(as_text=True)
    assert lines_in(html) == [
        "github.com/fw/framework",
        "github.com/left/pad",
        "github.com/tiny/tiny",
    ]
    html = client.get(url(scenario, "?kind=held")).get_data(as_text=True)
    assert lines_in(html) == ["github.com/tiny/tiny"]
    html = client.get(url(scenario, "?q=FRAME")).get_data(as_text=True)
    assert lines_in(html) == ["github.com/fw/framework"]
    html = client.get(url(scenario, "?risk_min=50")).get_data(as_text=True)
    assert lines_in(html) == ["github.com/left/pad"]
    html = client.get(url(scenario, "?per_page=1&page=2")).get_data(as_text=True)
    assert lines_in(html) == ["github.com/fw/framework"]
    assert "3 of 3 lines match; showing 1" in html and "page 2 of 3" in html
    page = client.get(url(scenario, "?per_page=0"))
    assert page.status_code == 400 and "per_page: expected a whole number" in page.get_data(
        as_text=True
    )
    page = client.get(url(scenario, "?sort=nonsense&flag=weird"))
    assert page.status_code == 400
    assert "sort: expected one of" in page.get_data(as_text=True)


def test_viewers_read_but_cannot_change(client, app, scenario, proposal):
    login(client, scenario.viewer)
    html = client.get(url(scenario)).get_data(as_text=True)
    assert 'name="decision"' not in html and 'class="row-form"' not in html
    project_id = scenario.projects["left"].id
    for suffix, data in (
        ("/adjust", {"project_id": project_id, "revision": 1, "kind": "exclude"}),
        ("/decide", {"revision": 1, "decision": "approve"}),
        ("/submit", {"revision": 1}),
    ):
        assert post_form(client, app, url(scenario, suffix), data).status_code == 403
    preview = post_form(client, app, f"/c/{scenario.company.slug}/proposals/preview")
    assert preview.status_code == 403
    assert proposal.state == "in_review"


def test_another_companys_proposal_answers_404(client, session, app, scenario, proposal):
    other = acme(session)
    login(client, other.owner)
    assert client.get(url(scenario)).status_code == 404
    data = {"project_id": scenario.projects["left"].id, "revision": 1, "kind": "exclude"}
    assert post_form(client, app, url(scenario, "/adjust"), data).status_code == 404
    assert client.get(f"/c/{other.company.slug}/proposals/{PERIOD}").status_code == 404
    assert client.get(f"/c/{other.company.slug}/proposals/not-a-period").status_code == 404


def test_adjusting_recomputes_at_once(client, session, app, scenario, proposal):
    login(client, scenario.reviewer)
    left = scenario.projects["left"].id
    answer = post_form(
        client,
        app,
        url(scenario, "/adjust"),
        {
            "project_id": left,
            "revision": 1,
            "kind": "override",
            "value": "100.00",
            "note": "one-off",
            "keep_sort": "project",
        },
    )
    assert answer.status_code == 302 and "sort=project" in answer.headers["Location"]
    html = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "Adjusted and recomputed." in html
    assert "fixed at 100.00 by the OSPO: one-off" in html
    assert amount_of(session, proposal.id, left) == 10_000
    # Without a note an override is refused, and nothing changes.
    post_form(
        client,
        app,
        url(scenario, "/adjust"),
        {"project_id": left, "revision": 1, "kind": "override", "value": "50.00"},
    )
    html = client.get(url(scenario)).get_data(as_text=True)
    assert "Say why the amount is overridden" in html
    assert amount_of(session, proposal.id, left) == 10_000
    adjustment = session.exec(select(Adjustment)).one()
    post_form(client, app, url(scenario, f"/adjustments/{adjustment.id}/remove"), {"revision": 1})
    assert amount_of(session, proposal.id, left) == 65_000


def test_actions_on_an_old_revision_are_refused(client, session, app, scenario, proposal):
    login(client, scenario.reviewer)
    generate_proposal(
        session, Actor(user_id=scenario.owner.id), scenario.company, PERIOD, NOW, replace=True
    )
    session.commit()
    answer = post_form(
        client, app, url(scenario, "/decide"), {"revision": 1, "decision": "approve"}
    )
    html = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "changed since you loaded it (now revision 2)" in html
    assert not session.exec(select(Pledge)).all()


def test_approve_and_reject_through_the_page(client, session, app, scenario, proposal):
    login(client, scenario.owner)
    answer = post_form(
        client,
        app,
        url(scenario, "/decide"),
        {"revision": 1, "decision": "approve", "comment": "ok"},
    )
    html = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "Approved: the pledges now follow" in html
    session.refresh(proposal)
    assert proposal.state == "approved" and proposal.decision_comment == "ok"
    assert len(session.exec(select(Pledge)).all()) == 2
    assert 'name="decision"' not in html  # decided: nothing left to do


def test_four_eyes_refusal_on_the_page(client, session, app, scenario, proposal):
    policy = session.get(AllocationPolicy, scenario.company.id)
    policy.four_eyes = True
    session.add(policy)
    session.commit()
    login(client, scenario.reviewer)
    left = scenario.projects["left"].id
    post_form(
        client,
        app,
        url(scenario, "/adjust"),
        {"project_id": left, "revision": 1, "kind": "boost", "value": "2"},
    )
    html = client.get(url(scenario)).get_data(as_text=True)
    assert "you made the last change to this proposal" in html
    answer = post_form(
        client, app, url(scenario, "/decide"), {"revision": 1, "decision": "approve"}
    )
    html = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "Four-eyes approval is on" in html
    session.refresh(proposal)
    assert proposal.state == "in_review"


def test_reject_needs_a_comment(client, session, app, scenario, proposal):
    login(client, scenario.reviewer)
    answer = post_form(client, app, url(scenario, "/decide"), {"revision": 1, "decision": "reject"})
    assert "Say why the proposal is rejected" in client.get(answer.headers["Location"]).get_data(
        as_text=True
    )
    post_form(
        client,
        app,
        url(scenario, "/decide"),
        {"revision": 1, "decision": "reject", "comment": "no"},
    )
    session.refresh(proposal)
    assert proposal.state == "rejected"


def test_diff_against_last_month_on_the_page(client, session, app, scenario, proposal):
    approve(session, Actor(user_id=scenario.owner.id), proposal, None, NOW)
    session.commit()
    nxt = generate_proposal(
        session, Actor(user_id=scenario.reviewer.id), scenario.company, "2027-01", NOW
    )
    adjust(
        session,
        Actor(user_id=scenario.reviewer.id),
        nxt,
        scenario.projects["framework"].id,
        "exclude",
    )
    session.commit()
    login(client, scenario.viewer)
    html = client.get(f"/c/{scenario.company.slug}/proposals/2027-01").get_data(as_text=True)
    assert "<strong>0</strong> new, <strong>1</strong> dropped, <strong>2</strong> changed" in html
    assert "+188.71" in html  # left-pad: 650.00 → 838.71
    html = client.get(f"/c/{scenario.company.slug}/proposals/2027-01?flag=changed").get_data(
        as_text=True
    )
    assert lines_in(html) == ["github.com/left/pad", "github.com/tiny/tiny"]


def test_preview_now_generates_this_period(client, session, app, scenario):
    login(client, scenario.reviewer)
    answer = post_form(client, app, f"/c/{scenario.company.slug}/proposals/preview")
    assert answer.status_code == 302
    made = session.exec(select(Proposal)).one()
    assert made.period == current_period() and made.state == "draft"
    assert made.last_edited_by_id == scenario.reviewer.id
    post_form(client, app, f"/c/{scenario.company.slug}/proposals/preview")
    session.expire_all()
    states = sorted(p.state for p in session.exec(select(Proposal)))
    assert states == ["draft", "superseded"]
    html = client.get(f"/c/{scenario.company.slug}/proposals").get_data(as_text=True)
    assert "Preview now" in html and "superseded" in html


def test_submit_a_draft_for_review(client, session, app, scenario):
    login(client, scenario.reviewer)
    post_form(client, app, f"/c/{scenario.company.slug}/proposals/preview")
    period = current_period()
    post_form(client, app, f"/c/{scenario.company.slug}/proposals/{period}/submit", {"revision": 1})
    assert session.exec(select(Proposal)).one().state == "in_review"


def test_home_and_navigation_show_the_proposal(client, scenario, proposal):
    login(client, scenario.viewer)
    html = client.get(f"/c/{scenario.company.slug}/").get_data(as_text=True)
    assert f'href="/c/{scenario.company.slug}/proposals"' in html  # the company nav
    assert f"To pay · {proposal.period}" in html and f"Review {proposal.period}" in html


def test_forms_carry_csrf(client, app, scenario, proposal):
    login(client, scenario.reviewer)
    csrf_token(client, app)
    answer = client.post(url(scenario, "/decide"), data={"revision": 1, "decision": "approve"})
    assert answer.status_code == 400


# The policy page ---------------------------------------------------------------------------


def policy_form(**changes):
    data = {
        "decay": "0.5",
        "unknown_depth": "2",
        "risk_alpha": "1",
        "cap": "0.2",
        "minimum": "10.00",
        "granularity": "1.00",
        "unclaimed": "skip",
        "hold_months": "2",
        "exclude_projects": "github.com/bad/actor",
        "exclude_owners": "",
        "exclude_ecosystems": "maven",
        "first_party_owners": "acme-labs",
        "boosts": "github.com/left/pad = 1.5",
        "four_eyes": "1",
        "notify_email": "1",
        "webhook_url": "",
        "webhook_secret": "",
    }
    data.update(changes)
    return data


def test_policy_page_saves_with_field_named_errors(client, session, app, scenario):
    login(client, scenario.owner)
    slug = scenario.company.slug
    assert client.get(f"/c/{slug}/policy").status_code == 200
    bad = post_form(client, app, f"/c/{slug}/policy", policy_form(cap="1.5", hold_months="x"))
    assert bad.status_code == 400
    assert "hold_months: expected a whole number" in bad.get_data(as_text=True)
    bad = post_form(client, app, f"/c/{slug}/policy", policy_form(cap="1.5"))
    assert bad.status_code == 400 and "cap: expected a fraction" in bad.get_data(as_text=True)
    bad = post_form(client, app, f"/c/{slug}/policy", policy_form(boosts="github.com/x/y 2"))
    assert "boosts, line 1" in bad.get_data(as_text=True)
    bad = post_form(
        client, app, f"/c/{slug}/policy", policy_form(webhook_url="https://hooks.example.com/t")
    )
    assert "webhook_secret: give a signing secret" in bad.get_data(as_text=True)
    bad = post_form(
        client,
        app,
        f"/c/{slug}/policy",
        policy_form(webhook_url="http://127.0.0.1/hook", webhook_secret="s" * 20),
    )
    assert "private or local address" in bad.get_data(as_text=True)
    good = post_form(
        client,
        app,
        f"/c/{slug}/policy",
        policy_form(webhook_url="https://hooks.example.com/t", webhook_secret="0123456789abcdef"),
    )
    assert good.status_code == 302
    row = session.get(AllocationPolicy, scenario.company.id)
    session.refresh(row)
    assert row.policy["cap"] == 0.2 and row.policy["minimum"] == "10.00"
    assert row.policy["boosts"] == {"github.com/left/pad": 1.5}
    assert row.policy["unclaimed"] == "skip" and row.four_eyes
    assert row.webhook_secret and "0123456789abcdef" not in row.webhook_secret
    assert app.extensions["tributary.secrets"].open(row.webhook_secret) == "0123456789abcdef"
    html = client.get(f"/c/{slug}/policy").get_data(as_text=True)
    assert "0123456789abcdef" not in html and "a secret is set" in html


def test_viewers_cannot_change_the_policy(client, app, scenario):
    login(client, scenario.viewer)
    slug = scenario.company.slug
    assert client.get(f"/c/{slug}/policy").status_code == 200
    assert post_form(client, app, f"/c/{slug}/policy", policy_form()).status_code == 403
