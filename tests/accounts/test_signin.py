"""The whole GitHub OAuth dance, against the fake GitHub over real HTTP."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlmodel import select

from service.accounts.models import User
from service.audit.models import Event
from service.companies.models import Membership, Role
from tests.factories import make_company, make_user


def start(client, next_path="/profile"):
    response = client.get("/auth/github", query_string={"next": next_path})
    assert response.status_code == 302
    return response.headers["Location"]


def authorize_at_github(authorize_url: str) -> str:
    """Follow the browser's visit to GitHub's authorize page; returns our callback URL."""
    response = httpx.get(authorize_url, follow_redirects=False)
    assert response.status_code == 302, response.text
    return response.headers["Location"]


def callback(client, url: str):
    parts = urlsplit(url)
    return client.get(f"{parts.path}?{parts.query}")


def test_sign_in_creates_user_and_redirects_to_next(client, fake_github, session):
    fake_github.add_user("octocat", id=583231, name="The Octocat", email="octo@example.com")
    authorize_url = start(client)
    query = parse_qs(urlsplit(authorize_url).query)
    assert query["scope"] == ["read:user user:email read:org"]
    assert query["code_challenge_method"] == ["S256"] and query["state"][0]

    response = callback(client, authorize_at_github(authorize_url))

    assert response.status_code == 302
    assert response.headers["Location"] == "/profile"
    user = session.exec(select(User).where(User.github_id == 583231)).one()
    assert (user.login, user.name, user.email) == ("octocat", "The Octocat", "octo@example.com")
    # The token is kept only encrypted, never in plain text.
    assert user.github_token_encrypted and "gho_" not in user.github_token_encrypted
    page = client.get("/profile")
    assert page.status_code == 200 and b"octocat" in page.data
    assert session.exec(select(Event).where(Event.action == "user.signed_up")).first()


def test_changed_login_updates_the_same_user(client, fake_github, session):
    make_user(session, "old-name", github_id=77)
    fake_github.add_user("new-name", id=77)
    callback(client, authorize_at_github(start(client)))
    users = session.exec(select(User).where(User.github_id == 77)).all()
    assert [u.login for u in users] == ["new-name"]


def test_cancel_on_github_shows_a_friendly_page(client, fake_github):
    fake_github.add_user("octocat")
    fake_github.deny_authorization = True
    response = callback(client, authorize_at_github(start(client)))
    assert response.status_code == 200
    assert b"You cancelled the sign-in on GitHub." in response.data
    with client.session_transaction() as flask_session:
        assert "user_id" not in flask_session


def test_state_mismatch_is_refused(client, fake_github):
    fake_github.add_user("octocat")
    url = authorize_at_github(start(client)).replace("state=", "state=tampered")
    response = callback(client, url)
    assert response.status_code == 400
    assert b"state mismatch" in response.data


def test_callback_without_a_pending_sign_in_is_refused(client, fake_github):
    response = client.get("/auth/github/callback?code=abc&state=xyz")
    assert response.status_code == 400
    assert b"expired" in response.data


def test_token_endpoint_failure(client, fake_github):
    fake_github.add_user("octocat")
    fake_github.token_endpoint_fails = True
    response = callback(client, authorize_at_github(start(client)))
    assert response.status_code == 400
    assert b"GitHub did not issue a sign-in token (status 500)" in response.data


def test_github_api_down_after_token(client, fake_github):
    fake_github.add_user("octocat")
    url = authorize_at_github(start(client))
    fake_github.api_down = True
    response = callback(client, url)
    assert response.status_code == 502
    assert b"GitHub answered 503" in response.data


def test_pending_invitation_is_accepted_on_sign_in(client, fake_github, session):
    owner = make_user(session, "boss")
    company = make_company(session, "acme", members=[(owner, Role.owner)])
    from service.audit.services import Actor
    from service.companies.services import invite

    invite(session, Actor(user_id=owner.id), company, "NewPerson", Role.reviewer)
    session.commit()
    fake_github.add_user("newperson", id=4242)
    callback(client, authorize_at_github(start(client)))
    user = session.exec(select(User).where(User.github_id == 4242)).one()
    membership = session.exec(select(Membership).where(Membership.user_id == user.id)).one()
    assert (membership.company_id, membership.role) == (company.id, Role.reviewer)


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
        "javascript:alert(1)",
        "http:/evil.example",
    ],
)
def test_next_never_redirects_off_site(client, fake_github, target):
    fake_github.add_user("octocat")
    response = callback(client, authorize_at_github(start(client, next_path=target)))
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_sign_out_needs_csrf_and_forgets_the_user(client, app, fake_github, session):
    fake_github.add_user("octocat", id=9)
    callback(client, authorize_at_github(start(client)))
    assert client.post("/logout").status_code == 400  # no CSRF token
    from tests.conftest import post_form

    assert post_form(client, app, "/logout").status_code == 302
    with client.session_transaction() as flask_session:
        assert "user_id" not in flask_session
    user = session.exec(select(User).where(User.github_id == 9)).one()
    session.refresh(user)
    assert user.github_token_encrypted is None
