"""No forgeable sessions, no session after sign-out (issue #11, item 4): a generated
secret key in the instance folder when none is configured, sign-out ending the session
on the server side, and an idle timeout."""

from __future__ import annotations

import logging
import stat
from datetime import UTC, datetime, timedelta

from service.app import create_app
from tests.conftest import login, post_form
from tests.factories import make_user

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def test_no_known_secret_key_is_ever_served_with(tmp_path, caplog):
    instance = tmp_path / "instance"
    with caplog.at_level(logging.WARNING):
        first = create_app({"env": "development", "instance_path": instance})
        again = create_app({"env": "development", "instance_path": instance})
    key_file = instance / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert first.secret_key == again.secret_key == key_file.read_text().strip()
    assert len(first.secret_key) >= 48
    assert "generated the secret key in" in caplog.text
    assert "using the secret key in" in caplog.text
    elsewhere = create_app({"env": "development", "instance_path": tmp_path / "other"})
    assert elsewhere.secret_key != first.secret_key
    # Tests aside: a random key per app, never written anywhere.
    tests = create_app({"env": "test", "instance_path": tmp_path / "t"})
    assert tests.secret_key and not (tmp_path / "t" / "secret_key").exists()


def test_a_copied_cookie_stops_working_at_sign_out(client, app, session):
    user = make_user(session, "octo")
    login(client, user)
    with client.session_transaction() as saved:
        copied = dict(saved)
    assert client.get("/profile").status_code == 200
    assert post_form(client, app, "/logout").status_code == 302
    thief = app.test_client()
    with thief.session_transaction() as flask_session:
        flask_session.update(copied)
    answer = thief.get("/profile")
    assert answer.status_code == 302 and "/login" in answer.headers["Location"]


def test_a_session_ends_after_the_idle_time(client, app, session, clock):
    user = make_user(session, "idle")
    login(client, user)
    idle = timedelta(minutes=app.extensions["tributary.settings"].session_idle_minutes)
    clock.advance(idle - timedelta(minutes=1))
    assert client.get("/profile").status_code == 200  # each use starts the idle time again
    clock.advance(idle - timedelta(minutes=1))
    assert client.get("/profile").status_code == 200
    clock.advance(idle + timedelta(minutes=1))
    answer = client.get("/profile")
    assert answer.status_code == 302 and "/login" in answer.headers["Location"]
