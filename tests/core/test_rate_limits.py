"""Rate limits: sign-in, uploads and the API answer 429 with Retry-After past their setting,
counted per client, in memory or (shared by every process) in Redis."""

from __future__ import annotations

import os
import uuid

import pytest

from tests.conftest import app_settings

LOW = {
    "rate_limit_signin": "2 per minute",
    "rate_limit_uploads": "2 per minute",
    "rate_limit_api": "3 per minute",
}


@pytest.fixture
def app_overrides() -> dict:
    return LOW


def _unique_address() -> str:
    # Counters in Redis outlive a test: every test counts for a client of its own.
    return "10.{}.{}.{}".format(*uuid.uuid4().bytes[:3])


def test_sign_in_past_its_limit_gets_the_error_page_with_retry_after(client):
    for _ in range(2):
        assert client.get("/auth/github").status_code == 302
    refused = client.get("/auth/github/callback")
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert refused.mimetype == "text/html"
    assert b"Too many requests" in refused.data
    assert b"2 per 1 minute" in refused.data
    assert refused.headers["X-Frame-Options"] == "DENY"
    # Other pages are not sign-in: still served.
    assert client.get("/login").status_code == 200


def test_the_sign_in_limit_counts_per_client_address(client):
    for _ in range(2):
        client.get("/auth/github", environ_base={"REMOTE_ADDR": "10.0.0.1"})
    assert client.get("/auth/github", environ_base={"REMOTE_ADDR": "10.0.0.1"}).status_code == 429
    assert client.get("/auth/github", environ_base={"REMOTE_ADDR": "10.0.0.2"}).status_code == 302


def test_behind_a_proxy_the_client_is_the_one_the_proxy_names(database, fake_github, tmp_path):
    from service.app import create_app

    app = create_app(app_settings(database.url, fake_github, tmp_path, forwarded_hops=1, **LOW))
    client = app.test_client()

    def sign_in(chain: str) -> int:
        return client.get("/auth/github", headers={"X-Forwarded-For": chain}).status_code

    # What the client wrote to the left of the proxy's entry changes nothing.
    assert [sign_in("1.1.1.1, 10.0.0.7"), sign_in("2.2.2.2, 10.0.0.7")] == [302, 302]
    assert sign_in("10.0.0.7") == 429
    assert sign_in("10.0.0.8") == 302
    app.extensions["tributary.db"].engine.dispose()
    app.extensions["tributary.http"].close()


def test_api_past_its_limit_answers_a_problem_document_per_token(client):
    headers = {"Authorization": "Bearer trb_unknown"}
    for _ in range(3):
        assert client.get("/api/v1/companies/acme", headers=headers).status_code == 401
    refused = client.get("/api/v1/companies/acme", headers=headers)
    assert refused.status_code == 429
    assert refused.mimetype == "application/problem+json"
    assert int(refused.headers["Retry-After"]) > 0
    body = refused.get_json()
    assert body["status"] == 429 and body["title"] == "Too Many Requests"
    assert body["error"]["code"] == "rate_limited"
    assert "3 per 1 minute" in body["detail"]
    # Another token is another client.
    other = client.get("/api/v1/companies/acme", headers={"Authorization": "Bearer trb_other"})
    assert other.status_code == 401


def test_dependency_track_uploads_count_against_the_upload_limit(client):
    key = {"X-Api-Key": "trb_ci_pipeline"}
    for _ in range(2):
        assert client.post("/api/v1/bom", headers=key).status_code == 401
    refused = client.put("/api/v1/bom", headers=key, json={})
    assert refused.status_code == 429
    assert "2 per 1 minute" in refused.get_json()["detail"]


def test_polling_an_upload_is_not_an_upload(client):
    # Three polls: past the upload limit (2), within the API's (3).
    key = {"X-Api-Key": "trb_poller"}
    statuses = [client.get("/api/v1/bom/token/abc", headers=key).status_code for _ in range(3)]
    assert 429 not in statuses


def test_web_uploads_are_limited_and_other_posts_are_not(client):
    for _ in range(2):
        assert client.post("/c/acme/products/upload").status_code != 429
    refused = client.post("/c/acme/products/upload")
    assert refused.status_code == 429
    assert refused.mimetype == "text/html"
    assert client.post("/logout").status_code != 429


def test_limits_can_be_switched_off(database, fake_github, tmp_path):
    from service.app import create_app

    app = create_app(
        app_settings(database.url, fake_github, tmp_path, rate_limits_enabled=False, **LOW)
    )
    client = app.test_client()
    assert all(client.get("/auth/github").status_code == 302 for _ in range(5))
    app.extensions["tributary.db"].engine.dispose()
    app.extensions["tributary.http"].close()


REDIS_URL = os.environ.get("TRIBUTARY_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def redis_url() -> str:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        pytest.skip(f"no Redis reachable at {REDIS_URL} ({type(exc).__name__})")
    return REDIS_URL


def test_processes_sharing_redis_share_the_count(database, fake_github, tmp_path, redis_url):
    from service.app import create_app

    # Two apps stand for two web processes (on two hosts) with the same REDIS_URL.
    apps = [
        create_app(
            app_settings(database.url, fake_github, tmp_path / name, redis_url=redis_url, **LOW)
        )
        for name in ("one", "two")
    ]
    address = {"REMOTE_ADDR": _unique_address()}
    first, second = (app.test_client() for app in apps)
    assert first.get("/auth/github", environ_base=address).status_code == 302
    assert second.get("/auth/github", environ_base=address).status_code == 302
    refused = first.get("/auth/github", environ_base=address)
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    for app in apps:
        app.extensions["tributary.db"].engine.dispose()
        app.extensions["tributary.http"].close()


def test_a_rate_limit_setting_that_is_no_limit_is_refused_by_name():
    from service.settings import SettingsError, load_settings

    with pytest.raises(SettingsError, match="TRIBUTARY_RATE_LIMIT_UPLOADS='often'"):
        load_settings({"env": "test", "rate_limit_uploads": "often"})


def test_the_default_rate_limits_are_limits():
    """Settings take the defaults without parsing them (commands skip the import): they
    must parse."""
    from limits import parse_many

    from service.settings import Settings

    for name in ("rate_limit_signin", "rate_limit_uploads", "rate_limit_api"):
        assert parse_many(Settings.model_fields[name].default)
