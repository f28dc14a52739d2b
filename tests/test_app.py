"""The app factory, settings validation, health checks, headers and the migrations gate."""

import threading

import pytest

from service.app import create_app
from service.core.services import GITHUB, HTTP, OAUTH, OUTBOUND, SECRETS, Services, get_github
from service.notifications.services import MAIL_SENDER, WEBHOOK_SENDER
from service.settings import SettingsError, load_settings
from tests.conftest import TEST_SECRET

OUTSIDE = (HTTP, OUTBOUND, SECRETS, GITHUB, MAIL_SENDER, WEBHOOK_SENDER, OAUTH)


def test_production_needs_a_real_secret_key():
    with pytest.raises(SettingsError, match="TRIBUTARY_SECRET_KEY must be set"):
        load_settings({"env": "production"})
    with pytest.raises(SettingsError, match="at least 32 characters"):
        load_settings({"env": "production", "secret_key": "short"})
    assert load_settings({"env": "production", "secret_key": "k" * 40}).is_production


def test_demo_environment_without_oauth_uses_demo_signin():
    settings = load_settings({"env": "demo"})
    assert settings.demo_signin and settings.github_backend == "demo"
    configured = load_settings(
        {"env": "demo", "github_client_id": "a", "github_client_secret": "b"}
    )
    assert not configured.demo_signin


def test_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("TRIBUTARY_GITHUB_API_URL", "https://ghe.example.com/api/v3")
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@db/tributary")
    settings = load_settings()
    assert settings.github_api_url == "https://ghe.example.com/api/v3"
    assert settings.database_url == "postgresql://u@db/tributary"


def test_postgres_urls_get_the_psycopg_driver(tmp_path):
    app = create_app(
        {
            "env": "test",
            "secret_key": TEST_SECRET,
            "instance_path": tmp_path,
            "database_url": "postgres://u@db.invalid/t",
        }
    )
    assert app.extensions["tributary.db"].url == "postgresql+psycopg://u@db.invalid/t"


def test_default_database_is_sqlite_in_the_instance_folder(tmp_path):
    app = create_app({"env": "test", "secret_key": TEST_SECRET, "instance_path": tmp_path})
    assert app.extensions["tributary.db"].url == f"sqlite:///{tmp_path}/tributary.db"


def test_health_and_readiness(client):
    assert client.get("/healthz").json == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json["database"] == "ok"


def test_security_headers_and_cookie_flags(client, app):
    response = client.get("/")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert app.config["SESSION_COOKIE_HTTPONLY"] and app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_production_cookies_are_secure(tmp_path):
    app = create_app({"env": "production", "secret_key": "p" * 40, "instance_path": tmp_path})
    assert app.config["SESSION_COOKIE_SECURE"]
    response = app.test_client().get("/healthz")
    assert "max-age" in response.headers["Strict-Transport-Security"]


def test_an_unmigrated_database_is_refused_with_the_command_to_run(tmp_path):
    app = create_app({"env": "test", "secret_key": TEST_SECRET, "instance_path": tmp_path})
    client = app.test_client()
    page = client.get("/")
    assert page.status_code == 503
    assert b"tributary db upgrade" in page.data
    ready = client.get("/readyz")
    assert ready.status_code == 503 and "tributary db upgrade" in ready.json["database"]
    assert client.get("/healthz").status_code == 200
    app.extensions["tributary.db"].upgrade()
    assert client.get("/").status_code == 200
    app.extensions["tributary.db"].engine.dispose()


def test_an_app_for_commands_builds_each_outside_service_on_first_use(tmp_path):
    settings = {"env": "test", "secret_key": TEST_SECRET, "instance_path": tmp_path}
    commands = create_app(settings, web=False)
    assert [key for key in OUTSIDE if key in commands.extensions] == []
    with commands.app_context():
        github = get_github()
    # GitHub's client is built on the HTTP client, which is built for it; nothing else.
    assert [key for key in OUTSIDE if key in commands.extensions] == [HTTP, GITHUB]
    assert commands.extensions[GITHUB] is github
    web = create_app(settings)  # the web server's app builds them all as it starts
    assert [key for key in OUTSIDE if key in web.extensions] == list(OUTSIDE)
    for app in (commands, web):
        app.extensions[HTTP].close()


def test_a_service_read_by_threads_at_once_is_built_once():
    built, start = [], threading.Barrier(8)
    services = Services({"slow": lambda: built.append(object()) or built[-1]})
    services["fake"] = "kept"

    def read():
        start.wait()
        assert services["slow"] is built[0]

    threads = [threading.Thread(target=read) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(built) == 1 and services["fake"] == "kept"
    with pytest.raises(KeyError):
        services["unknown"]
