"""Company pages: creation, roles, members, org linking, tokens, isolation, CSRF."""

from __future__ import annotations

import pytest
from sqlmodel import select

from service.audit.models import Event
from service.companies.models import ApiToken, Company, Invitation, LinkedOrg, Membership, Role
from tests.conftest import login, post_form
from tests.factories import make_company, make_user


@pytest.fixture
def people(session):
    owner, reviewer, viewer = (make_user(session, login) for login in ("olive", "rafa", "vic"))
    company = make_company(
        session,
        "acme",
        members=[(owner, Role.owner), (reviewer, Role.reviewer), (viewer, Role.viewer)],
    )
    return company, owner, reviewer, viewer


def test_create_company_makes_the_creator_owner(client, app, session):
    user = make_user(session, "founder")
    login(client, user)
    response = post_form(
        client,
        app,
        "/companies/new",
        {"slug": "newco", "name": "NewCo", "currency": "EUR", "budget": "1200.50"},
    )
    assert response.status_code == 302 and response.headers["Location"] == "/c/newco/"
    company = session.exec(select(Company).where(Company.slug == "newco")).one()
    assert (company.currency, company.monthly_budget_minor) == ("EUR", 120050)
    membership = session.exec(select(Membership).where(Membership.company_id == company.id)).one()
    assert membership.role == Role.owner
    home = client.get("/c/newco/")
    assert b"NewCo" in home.data and b"founder" in home.data and b"(owner)" in home.data


def test_create_company_names_the_bad_field(client, app, session):
    login(client, make_user(session))
    response = post_form(
        client,
        app,
        "/companies/new",
        {"slug": "Bad Slug!", "name": "X", "currency": "USD", "budget": "1"},
    )
    assert b"is not a valid slug" in response.data
    response = post_form(
        client,
        app,
        "/companies/new",
        {"slug": "okslug", "name": "X", "currency": "USD", "budget": "1.234"},
    )
    assert b"more than 2 decimal places" in response.data
    assert session.exec(select(Company).where(Company.slug == "okslug")).first() is None


def test_pages_show_who_is_signed_in_and_the_active_company(client, people):
    company, owner, *_ = people
    login(client, owner)
    for path in (
        "/c/acme/",
        "/c/acme/settings",
        "/c/acme/members",
        "/c/acme/tokens",
        "/c/acme/orgs",
        "/profile",
    ):
        page = client.get(path)
        assert page.status_code == 200, path
        assert b"olive" in page.data
        if path.startswith("/c/"):
            assert b'title="Active company">' + company.name.encode() in page.data


def test_viewer_cannot_change_settings(client, app, people, session):
    company, _owner, _reviewer, viewer = people
    login(client, viewer)
    response = post_form(client, app, "/c/acme/settings", {"name": "Hacked", "budget": "1.00"})
    assert response.status_code == 403
    session.refresh(company)
    assert company.name != "Hacked"


def test_only_an_owner_changes_the_budget_and_a_reviewer_cannot_manage_members(
    client, app, people, session
):
    company, owner, reviewer, viewer = people
    login(client, reviewer)
    refused = post_form(client, app, "/c/acme/settings", {"name": "Acme", "budget": "2500.00"})
    assert refused.status_code == 403
    login(client, owner)
    response = post_form(client, app, "/c/acme/settings", {"name": "Acme", "budget": "2500.00"})
    assert response.status_code == 302
    session.refresh(company)
    assert company.monthly_budget_minor == 250000
    event = session.exec(select(Event).where(Event.action == "company.settings_changed")).one()
    assert event.actor_user_id == owner.id and event.details["after"]["budget_minor"] == 250000
    login(client, reviewer)

    assert (
        post_form(
            client, app, "/c/acme/members/invite", {"login": "someone", "role": "owner"}
        ).status_code
        == 403
    )
    membership = session.exec(select(Membership).where(Membership.user_id == viewer.id)).one()
    assert (
        post_form(
            client, app, f"/c/acme/members/{membership.id}/role", {"role": "owner"}
        ).status_code
        == 403
    )
    assert client.get("/c/acme/tokens").status_code == 403


def test_owner_invites_changes_roles_and_keeps_one_owner(client, app, people, session):
    _company, owner, _reviewer, viewer = people
    login(client, owner)
    post_form(client, app, "/c/acme/members/invite", {"login": "@NewHire", "role": "viewer"})
    invitation = session.exec(select(Invitation)).one()
    assert invitation.github_login == "newhire"

    membership = session.exec(select(Membership).where(Membership.user_id == viewer.id)).one()
    post_form(client, app, f"/c/acme/members/{membership.id}/role", {"role": "reviewer"})
    session.refresh(membership)
    assert membership.role == Role.reviewer

    own = session.exec(select(Membership).where(Membership.user_id == owner.id)).one()
    response = post_form(client, app, f"/c/acme/members/{own.id}/remove", follow_redirects=True)
    assert b"at least one owner" in response.data
    assert session.get(Membership, own.id) is not None


def test_member_of_a_gets_404_on_b(client, people, session):
    _company, owner, *_ = people
    stranger_owner = make_user(session, "other-owner")
    make_company(session, "bcorp", members=[(stranger_owner, Role.owner)])
    login(client, owner)
    for path in (
        "/c/bcorp/",
        "/c/bcorp/settings",
        "/c/bcorp/members",
        "/c/bcorp/tokens",
        "/c/bcorp/orgs",
        "/c/nonexistent/",
    ):
        assert client.get(path).status_code == 404, path


def test_anonymous_is_sent_to_sign_in(client, people):
    response = client.get("/c/acme/settings")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=/c/acme/settings")


def test_forms_without_csrf_token_are_rejected(client, people, session):
    company, owner, *_ = people
    login(client, owner)
    response = client.post("/c/acme/settings", data={"name": "NoToken", "budget": "1.00"})
    assert response.status_code == 400
    assert b"CSRF" in response.data
    session.refresh(company)
    assert company.name != "NoToken"


def test_token_created_once_and_revoked(client, app, people, session):
    _company, owner, *_ = people
    login(client, owner)
    response = post_form(client, app, "/c/acme/tokens", {"name": "CI", "scopes": ["sbom:write"]})
    assert response.status_code == 200
    token = session.exec(select(ApiToken)).one()
    plaintext = response.data.decode().split('id="new-token">')[1].split("<")[0]
    assert plaintext.startswith("trb_") and token.token_hash != plaintext
    assert plaintext not in client.get("/c/acme/tokens").get_data(as_text=True)

    post_form(client, app, f"/c/acme/tokens/{token.id}/revoke")
    session.refresh(token)
    assert token.revoked_at is not None


def test_org_linking_requires_github_admin(client, app, fake_github, session):
    from tests.accounts.test_signin import authorize_at_github, callback, start

    fake_github.add_user("olive", id=31, orgs={"acme-oss": "admin", "other-org": "member"})
    callback(client, authorize_at_github(start(client)))
    from service.accounts.models import User

    owner = session.exec(select(User).where(User.github_id == 31)).one()
    make_company(session, "acme", members=[(owner, Role.owner)])

    post_form(client, app, "/c/acme/orgs", {"org": "acme-oss"})
    refused = post_form(client, app, "/c/acme/orgs", {"org": "other-org"})
    assert b"not an admin of other-org" in refused.data
    missing = post_form(client, app, "/c/acme/orgs", {"org": "nope-org"})
    assert b"not an admin of nope-org" in missing.data
    assert [o.org_login for o in session.exec(select(LinkedOrg))] == ["acme-oss"]
    assert "GET /api/user/memberships/orgs/acme-oss" in fake_github.requests


def test_org_linking_when_github_is_down(client, app, fake_github, session):
    from tests.accounts.test_signin import authorize_at_github, callback, start

    fake_github.add_user("olive", id=32, orgs={"acme-oss": "admin"})
    callback(client, authorize_at_github(start(client)))
    from service.accounts.models import User

    owner = session.exec(select(User).where(User.github_id == 32)).one()
    make_company(session, "acme", members=[(owner, Role.owner)])
    fake_github.api_down = True
    response = post_form(client, app, "/c/acme/orgs", {"org": "acme-oss"})
    assert b"Could not check your role in acme-oss: GitHub answered 503" in response.data
    assert session.exec(select(LinkedOrg)).first() is None
