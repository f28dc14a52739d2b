"""Maintainers claim projects with GitHub's word for it, share them, lose them when the
evidence goes, and say where they want to be paid."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from service.audit.models import Event
from service.audit.services import Actor
from service.core.services import get_github
from service.projects import claims, payouts
from service.projects.claims import ClaimError
from service.projects.jobs import recheck_claims
from service.projects.models import (
    Notification,
    PayoutChannel,
    ProjectClaim,
)
from tests.conftest import login, post_form
from tests.factories import make_funding_channel, make_project, make_user
from tests.projects.conftest import NOW


def maintainer(app, session, fake_github, login_name: str, permissions=None, *, token=True):
    """A signed-up user whose GitHub token (at the fake) is kept, as after a sign-in."""
    fake_github.add_user(login_name, permissions=permissions or {})
    user = make_user(session, login_name)
    if token:
        sealed = app.extensions["tributary.secrets"].seal(fake_github.token_for(login_name))
        user.github_token_encrypted = sealed
        session.add(user)
        session.commit()
    return user


def do_claim(app, session, user, project, now=NOW):
    from service.accounts.services import github_token

    with app.app_context():
        token = github_token(user, app.extensions["tributary.secrets"])
        created = claims.claim(
            session,
            Actor(user_id=user.id),
            user,
            project,
            github=get_github(),
            token=token,
            github_host="github.com",
            now=now,
        )
    session.commit()
    return created


@pytest.mark.parametrize("level", ["admin", "maintain"])
def test_claim_with_repository_permission(app, session, fake_github, level):
    project = make_project(session)
    fake_github.add_repo("octo/widget")
    user = maintainer(app, session, fake_github, "octo", {"octo/widget": {level: True}})
    created = do_claim(app, session, user, project)
    assert (created.status, created.evidence) == ("active", level)
    assert created.evidence_detail["check"] == "GET /repos/octo/widget"
    assert created.evidence_detail["permissions"][level] is True
    assert created.claimed_at == NOW
    event = session.exec(select(Event).where(Event.action == "project.claimed")).one()
    assert event.details == {"project": "github.com/octo/widget", "evidence": level}


def test_claim_through_a_funding_yml_listing(app, session, fake_github):
    project = make_project(session)
    make_funding_channel(session, project, handle="Listed-Person")
    user = maintainer(app, session, fake_github, "listed-person", token=False)
    created = do_claim(app, session, user, project)
    assert created.evidence == "funding_yml"


def test_claim_refused_without_evidence(app, session, fake_github):
    project = make_project(session)
    fake_github.add_repo("octo/widget")
    pushy = maintainer(app, session, fake_github, "pushy", {"octo/widget": {"push": True}})
    with pytest.raises(ClaimError, match="does not show you with admin or maintain"):
        do_claim(app, session, pushy, project)
    # A FUNDING.yml entry found by a registry (npm funding) is not evidence.
    make_funding_channel(session, project, handle="pushy", source="npm")
    with pytest.raises(ClaimError):
        do_claim(app, session, pushy, project)
    other = make_project(session, "gitlab.com/octo/widget")
    with pytest.raises(ClaimError, match="only GitHub repositories"):
        do_claim(app, session, pushy, other)


def test_co_maintainers_agree_a_split_only_when_all_accept(app, session, fake_github):
    project = make_project(session)
    fake_github.add_repo("octo/widget")
    admins = {"octo/widget": {"admin": True}}
    ana = maintainer(app, session, fake_github, "ana", admins)
    ben = maintainer(app, session, fake_github, "ben", admins)
    do_claim(app, session, ana, project)
    do_claim(app, session, ben, project)
    assert claims.current_split(session, project).shares == {ana.id: 5000, ben.id: 5000}

    proposal = claims.propose_split(
        session, Actor(user_id=ana.id), ana, project, {ana.id: 7000, ben.id: 3000}, NOW
    )
    session.commit()
    split = claims.current_split(session, project)
    assert proposal.status == "pending" and split.pending.id == proposal.id
    assert split.shares == {ana.id: 5000, ben.id: 5000}  # unchanged until all accept

    claims.accept_split(session, Actor(user_id=ben.id), ben, project, proposal.id, NOW)
    session.commit()
    split = claims.current_split(session, project)
    assert split.agreed.id == proposal.id and split.shares == {ana.id: 7000, ben.id: 3000}

    with pytest.raises(ClaimError, match="add up to 90"):
        claims.propose_split(session, Actor(), ana, project, {ana.id: 6000, ben.id: 3000})
    assert claims.parse_percent("33.33") == 3333
    with pytest.raises(ClaimError):
        claims.parse_percent("33.333")

    # A third co-maintainer arrives: the old agreement no longer covers everyone.
    cy = maintainer(app, session, fake_github, "cy", admins)
    do_claim(app, session, cy, project)
    assert claims.current_split(session, project).shares == {
        ana.id: 3334,
        ben.id: 3333,
        cy.id: 3333,
    }
    # Releasing a claim works the same way.
    cy_claim = claims.active_claim(session, project, cy)
    claims.release(session, Actor(user_id=cy.id), cy, cy_claim.id, NOW)
    session.commit()
    assert claims.current_split(session, project).shares == {ana.id: 7000, ben.id: 3000}


def test_claims_lapse_when_the_evidence_is_gone(app, client, session, fake_github):
    project = make_project(session)
    fake_github.add_repo("octo/widget")
    user = maintainer(app, session, fake_github, "octo", {"octo/widget": {"admin": True}})
    do_claim(app, session, user, project)

    with app.app_context():
        recheck_claims(NOW + timedelta(days=1))
    found = session.exec(select(ProjectClaim)).one()
    session.refresh(found)
    assert found.status == "active" and found.verified_at == NOW + timedelta(days=1)

    fake_github.api_down = True  # GitHub failing is no verdict
    with app.app_context():
        recheck_claims(NOW + timedelta(days=2))
    session.refresh(found)
    assert found.status == "active"
    fake_github.api_down = False

    fake_github.users["octo"].permissions = {"octo/widget": {"push": True}}
    with app.app_context():
        recheck_claims(NOW + timedelta(days=3))
    session.refresh(found)
    assert found.status == "lapsed" and found.ended_at == NOW + timedelta(days=3)
    assert "no longer shows you" in found.end_reason
    notice = session.exec(select(Notification)).one()
    assert notice.user_id == user.id and notice.read_at is None

    # The notice is shown once, on the next page the person opens.
    login(client, user)
    page = client.get("/me/projects").get_data(as_text=True)
    assert "Your claim on github.com/octo/widget lapsed" in page
    again = client.get("/me/projects").get_data(as_text=True)
    assert "Your claim on github.com/octo/widget lapsed" not in again


def test_claims_that_cannot_be_rechecked_lapse_after_the_grace_period(app, session, fake_github):
    project = make_project(session)
    fake_github.add_repo("octo/widget")
    user = maintainer(app, session, fake_github, "octo", {"octo/widget": {"admin": True}})
    do_claim(app, session, user, project)
    user.github_token_encrypted = None  # signed out: no token to ask GitHub with
    session.add(user)
    session.commit()
    with app.app_context():
        recheck_claims(NOW + timedelta(days=29))
    found = session.exec(select(ProjectClaim)).one()
    session.refresh(found)
    assert found.status == "active"
    with app.app_context():
        recheck_claims(NOW + timedelta(days=31))
    session.refresh(found)
    assert found.status == "lapsed" and "sign in with GitHub" in found.end_reason


def test_claim_and_release_through_the_pages(app, client, session, fake_github):
    project = make_project(session)
    fake_github.add_repo("octo/widget")
    user = maintainer(app, session, fake_github, "octo", {"octo/widget": {"maintain": True}})
    login(client, user)
    listing = client.get("/me/projects").get_data(as_text=True)
    assert "github.com/octo/widget" in listing and "belongs to your account" in listing
    response = post_form(
        client, app, "/me/projects/claim", {"project": project.key}, follow_redirects=True
    )
    assert "You now maintain github.com/octo/widget" in response.get_data(as_text=True)
    found = session.exec(select(ProjectClaim)).one()
    assert found.evidence == "maintain"
    public = client.get("/projects/github.com/octo/widget").get_data(as_text=True)
    assert "octo" in public and "100.00%" in public
    post_form(client, app, f"/me/claims/{found.id}/release")
    session.refresh(found)
    assert found.status == "released"
    assert client.get("/me/projects").status_code == 200
    assert client.post(f"/me/claims/{found.id}/release").status_code == 400  # no CSRF token


def test_payout_channels_are_validated(app, session, fake_github):
    user = make_user(session, "payee")
    fake_github.add_user("payee")
    fake_github.extra_logins.add("some-org")
    actor = Actor(user_id=user.id)
    with app.app_context():
        github = get_github()
        first = payouts.add_payout_channel(
            session, actor, user, "github_sponsors", "@payee", github=github
        )
        assert (first.value, first.url, first.preferred) == (
            "payee",
            "https://github.com/sponsors/payee",
            True,
        )
        second = payouts.add_payout_channel(
            session,
            actor,
            user,
            "open_collective",
            "https://opencollective.com/My-Collective",
            github=github,
        )
        assert second.value == "my-collective" and not second.preferred
        payouts.add_payout_channel(
            session, actor, user, "github_sponsors", "some-org", github=github
        )
        payouts.add_payout_channel(
            session, actor, user, "custom", "https://example.org/donate", github=github
        )
        bad = [
            ("github_sponsors", "ghost-user", "has no account"),
            ("github_sponsors", "-bad-", "not a valid GitHub login"),
            ("open_collective", "Not a slug!", "not an Open Collective slug"),
            ("custom", "http://example.org/pay", "https://"),
            ("custom", "javascript:alert(1)", "https://"),
            ("custom", "https://127.0.0.1/pay", "public web address"),
            ("custom", "https://user:pw@example.org/", "user name or password"),
            ("liberapay", "https://ko-fi.com/someone", "not a Liberapay"),
            ("bitcoin", "abc", "Unknown payout channel"),
            ("custom", "https://example.org/donate", "already added"),
        ]
        for kind, value, message in bad:
            with pytest.raises(ClaimError, match=message):
                payouts.add_payout_channel(session, actor, user, kind, value, github=github)
    payouts.set_preferred(session, actor, user, second.id)
    session.commit()
    preferred = [c.kind for c in payouts.payout_channels(session, user.id) if c.preferred]
    assert preferred == ["open_collective"]
    payouts.remove_payout_channel(session, actor, user, second.id)
    session.commit()
    remaining = payouts.payout_channels(session, user.id)
    assert len(remaining) == 3 and sum(c.preferred for c in remaining) == 1
    stranger = make_user(session)
    with pytest.raises(ClaimError):
        payouts.set_preferred(session, Actor(user_id=stranger.id), stranger, first.id)


def test_payout_page(app, client, session, fake_github):
    user = make_user(session, "payee")
    fake_github.add_user("payee")
    login(client, user)
    bad = post_form(client, app, "/me/payout", {"kind": "custom", "value": "ftp://x"})
    assert bad.status_code == 400 and "https://" in bad.get_data(as_text=True)
    good = post_form(client, app, "/me/payout", {"kind": "github_sponsors", "value": "payee"})
    assert good.status_code == 302
    page = client.get("/me/payout").get_data(as_text=True)
    assert "https://github.com/sponsors/payee" in page and "preferred" in page
    assert session.exec(select(PayoutChannel)).one().user_id == user.id
    # A minimum of one's own, in US dollars: payment files leave smaller amounts out.
    wrong = post_form(
        client, app, "/me/payout", {"kind": "liberapay", "value": "payee", "minimum": "ten"}
    )
    assert wrong.status_code == 400 and "Minimum: amount" in wrong.get_data(as_text=True)
    with_minimum = {"kind": "liberapay", "value": "payee", "minimum": "5"}
    assert post_form(client, app, "/me/payout", with_minimum).status_code == 302
    assert "5.00 USD" in client.get("/me/payout").get_data(as_text=True)
    channel = session.exec(select(PayoutChannel).where(PayoutChannel.kind == "liberapay")).one()
    assert channel.minimum_minor == 500


def test_claim_by_repository_url(app, client, session, fake_github):
    make_project(session)
    fake_github.add_repo("octo/widget")
    user = maintainer(app, session, fake_github, "mia", {"octo/widget": {"admin": True}})
    login(client, user)
    response = post_form(
        client,
        app,
        "/me/projects/claim",
        {"project": "git+https://github.com/Octo/Widget.git"},
        follow_redirects=True,
    )
    assert "You now maintain github.com/octo/widget" in response.get_data(as_text=True)
    unknown = post_form(
        client,
        app,
        "/me/projects/claim",
        {"project": "https://github.com/a/b"},
        follow_redirects=True,
    )
    assert "does not know that repository" in unknown.get_data(as_text=True)


def test_my_projects_lists_repositories_github_says_i_maintain(app, client, session, fake_github):
    make_project(session, "github.com/acme/tool")
    make_project(session, "github.com/acme/other")
    fake_github.add_repo("acme/tool")
    fake_github.add_repo("acme/other")
    user = maintainer(
        app,
        session,
        fake_github,
        "mai",
        {"acme/tool": {"maintain": True}, "acme/other": {"push": True}},
    )
    login(client, user)
    listing = client.get("/me/projects").get_data(as_text=True)
    assert "github.com/acme/tool" in listing
    assert "GitHub says you can administer or maintain it" in listing
    assert "github.com/acme/other" not in listing  # push alone is not maintaining
    assert "GET /api/user/repos" in fake_github.requests

    fake_github.api_down = True
    degraded = client.get("/me/projects")
    assert degraded.status_code == 200 and "github.com/acme/tool" not in degraded.get_data(
        as_text=True
    )
