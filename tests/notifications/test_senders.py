"""The mail and webhook senders behind their interfaces: the setting chooses the real one
or a twin; the console twins log what they would send, the null ones drop it."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest
from sqlmodel import col, select

from service.allocation.generation import generate_proposal
from service.audit.services import Actor
from service.core.services import SECRETS
from service.db import get_db
from service.jobs.models import Task, TaskStatus
from service.jobs.queue import run_pending
from service.notifications.delivery import (
    ConsoleMailSender,
    ConsoleWebhookSender,
    NullMailSender,
    NullWebhookSender,
    SmtpMailSender,
    WebhookSender,
)
from service.notifications.services import (
    EMAIL_TASK,
    WEBHOOK_TASK,
    get_mail_sender,
    get_webhook_sender,
)
from service.settings import SettingsError, load_settings
from tests.allocation.data import acme_notifying

NOW = datetime(2026, 12, 1, 5, 0, tzinfo=UTC)


def test_mail_is_logged_until_an_smtp_host_is_set():
    assert load_settings({"env": "test"}).mail_backend == "console"
    assert load_settings({"env": "test", "smtp_host": "mail.example"}).mail_backend == "smtp"
    chosen = load_settings({"env": "test", "smtp_host": "mail.example", "mail_backend": "null"})
    assert chosen.mail_backend == "null"


def test_smtp_without_a_host_is_refused():
    with pytest.raises(SettingsError, match="TRIBUTARY_MAIL_BACKEND=smtp needs"):
        load_settings({"env": "test", "mail_backend": "smtp"})


def test_webhooks_are_posted_unless_the_setting_says_otherwise():
    assert load_settings({"env": "test"}).webhook_backend == "http"
    with pytest.raises(SettingsError):
        load_settings({"env": "test", "webhook_backend": "smtp"})


@pytest.mark.parametrize(
    ("app_overrides", "mail", "webhooks"),
    [
        ({}, ConsoleMailSender, WebhookSender),
        ({"smtp_host": "mail.example"}, SmtpMailSender, WebhookSender),
        (
            {"mail_backend": "null", "webhook_backend": "console"},
            NullMailSender,
            ConsoleWebhookSender,
        ),
        ({"webhook_backend": "null"}, ConsoleMailSender, NullWebhookSender),
    ],
)
def test_the_app_holds_the_senders_the_settings_choose(app, mail, webhooks):
    with app.app_context():
        assert type(get_mail_sender()) is mail
        assert type(get_webhook_sender()) is webhooks


@pytest.fixture
def scenario(session, app):
    return acme_notifying(session, app.extensions[SECRETS].seal)


def submit_and_deliver(app, session, scenario) -> list[Task]:
    with app.app_context():
        generate_proposal(
            session, Actor.system("scheduler"), scenario.company, "2026-12", NOW, submit=True
        )
        session.commit()
        run_pending(get_db(app), now=NOW)
    tasks = session.exec(select(Task).where(col(Task.kind).in_([EMAIL_TASK, WEBHOOK_TASK]))).all()
    for task in tasks:
        session.refresh(task)
    return list(tasks)


@pytest.mark.usefixtures("clock")
@pytest.mark.parametrize("app_overrides", [{"webhook_backend": "console"}])
def test_without_smtp_the_console_twins_log_what_they_would_send(app, session, scenario, caplog):
    with caplog.at_level(logging.INFO, logger="service.notifications.delivery"):
        tasks = submit_and_deliver(app, session, scenario)
    assert sorted(t.kind for t in tasks) == [EMAIL_TASK, WEBHOOK_TASK]
    assert all(t.status == TaskStatus.done for t in tasks)
    mail, hook = sorted(
        (r.getMessage() for r in caplog.records if "not sent" in r.getMessage()),
        key=lambda text: text.startswith("webhook"),
    )
    assert "owner@acme.test" in mail and "proposal for 2026-12 is ready for review" in mail
    assert "proposal.ready" in hook and "https://hooks.example.com/tributary" in hook
    assert '"event":"proposal.ready"' in hook


@pytest.mark.usefixtures("clock")
@pytest.mark.parametrize("app_overrides", [{"mail_backend": "null", "webhook_backend": "null"}])
def test_the_null_twins_send_and_log_nothing(app, session, scenario, caplog):
    with caplog.at_level(logging.INFO, logger="service.notifications.delivery"):
        tasks = submit_and_deliver(app, session, scenario)
    # No e-mail is even queued; the webhook's task runs and sends nothing.
    assert [(t.kind, t.status) for t in tasks] == [(WEBHOOK_TASK, TaskStatus.done)]
    assert not [r for r in caplog.records if r.name == "service.notifications.delivery"]
