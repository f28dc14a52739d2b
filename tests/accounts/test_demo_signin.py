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


class BoundSocket:
    """What the WSGI server hands over as the connection: only its bound address matters."""

    def __init__(self, host: str) -> None:
        self.host = host

    def getsockname(self):
        return (self.host, 5000)


@pytest.mark.parametrize(
    ("environ", "headers"),
    [
        ({"werkzeug.socket": BoundSocket("0.0.0.0")}, {}),  # gunicorn/flask run on every address
        ({"gunicorn.socket": BoundSocket("192.0.2.10")}, {}),
        ({"werkzeug.socket": BoundSocket("127.0.0.1")}, {"X-Forwarded-For": "203.0.113.9"}),
        ({}, {"Forwarded": 'for="203.0.113.9";proto=https'}),
        ({}, {"X-Real-Ip": "127.0.0.1, 198.51.100.7"}),
    ],
)
def test_demo_sign_in_decides_from_the_request_and_the_real_bind(client, app, environ, headers):
    refused = post_form(
        client, app, "/auth/demo", {"login": "demo-owner"}, environ_base=environ, headers=headers
    )
    assert refused.status_code == 404
    assert (
        b"Sign in as demo-owner"
        not in client.get("/login", environ_base=environ, headers=headers).data
    )


def test_demo_sign_in_on_a_loopback_bind_behind_a_local_hop(client, app):
    environ = {"werkzeug.socket": BoundSocket("127.0.0.1")}
    response = post_form(
        client,
        app,
        "/auth/demo",
        {"login": "demo-owner"},
        environ_base=environ,
        headers={"X-Forwarded-For": "127.0.0.1"},
    )
    assert response.status_code == 302
