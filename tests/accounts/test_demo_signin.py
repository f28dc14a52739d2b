"""Demo sign-in: only when enabled, only from loopback, never in production."""

import pytest

from service.settings import SettingsError, load_settings
from tests.conftest import post_form

pytestmark = pytest.mark.filterwarnings("ignore:DemoGitHubAPI is in use")


@pytest.fixture
def app_overrides():
    return {"demo_signin": True, "github_backend": "demo"}


def test_demo_user_signs_in_and_is_marked_demo(client, app):
    page = client.get("/login")
    assert b"Sign in as demo-owner" in page.data
    response = post_form(client, app, "/auth/demo", {"login": "demo-owner", "next": "/profile"})
    assert response.status_code == 302 and response.headers["Location"] == "/profile"
    profile = client.get("/profile")
    assert b"Demo mode" in profile.data and b"demo-owner" in profile.data


def test_demo_sign_in_refused_from_a_remote_address(client, app):
    response = post_form(
        client,
        app,
        "/auth/demo",
        {"login": "demo-owner"},
        environ_base={"REMOTE_ADDR": "203.0.113.9"},
    )
    assert response.status_code == 404


def test_unknown_demo_user(client, app):
    assert post_form(client, app, "/auth/demo", {"login": "mallory"}).status_code == 400


def test_demo_sign_in_cannot_be_enabled_in_production():
    with pytest.raises(SettingsError, match="production"):
        load_settings({"env": "production", "secret_key": "s" * 40, "demo_signin": True})
    with pytest.raises(SettingsError, match="loopback"):
        load_settings({"demo_signin": True, "bind_host": "0.0.0.0"})
