"""Notices about proposals: in-app rows in the transaction, e-mail and signed webhooks after
it, through the queue (retried when the receiver fails, never undoing the approval)."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlmodel import col, select

from service.allocation.errors import ProposalError
from service.allocation.generation import generate_proposal
from service.allocation.models import AllocationPolicy
from service.allocation.review import approve
from service.audit.services import Actor
from service.jobs.models import Task, TaskStatus
from service.jobs.queue import run_pending
from service.notifications.delivery import WebhookSender, verify
from service.notifications.models import Notification
from service.notifications.services import EMAIL_TASK, WEBHOOK_TASK
from tests.allocation.data import WEBHOOK_SECRET, acme_notifying
from tests.conftest import login
from tests.fakes.smtp import FakeSMTP, serve

NOW = datetime(2026, 12, 1, 5, 0, tzinfo=UTC)
pytestmark = pytest.mark.usefixtures("clock")
SECRET = WEBHOOK_SECRET


@pytest.fixture(scope="module")
def smtp_server():
    fake = FakeSMTP()
    running = serve(fake)
    yield fake
    running.stop()


@pytest.fixture
def smtp(smtp_server):
    smtp_server.messages.clear()
    smtp_server.refuse = False
    return smtp_server


@pytest.fixture
def app_overrides(smtp):
    return {
        "smtp_host": smtp.host,
        "smtp_port": smtp.port,
        "smtp_starttls": False,
        "smtp_from": "tributary@example.test",
        "public_url": "https://tributary.example.test",
    }


class Hooks:
    """A webhook receiver behind httpx.MockTransport."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.status = 200

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(self.status, text="ok")


@pytest.fixture
def hooks(app):
    receiver = Hooks()
    sender = WebhookSender(
        user_agent="Tributary/test",
        transport=httpx.MockTransport(receiver),
        resolver=lambda host: ["93.184.216.34"],
        clock=lambda: NOW.timestamp(),
    )
    app.extensions["tributary.webhooks"] = sender
    yield receiver
    sender.close()


@pytest.fixture
def scenario(session, app):
    return acme_notifying(session, app.extensions["tributary.secrets"].seal)


def deliver(app, now=NOW) -> int:
    with app.app_context():
        return run_pending(app.extensions["tributary.db"], now=now)


def notices(session, kind):
    return session.exec(
        select(Notification).where(Notification.kind == kind).order_by(col(Notification.user_id))
    ).all()


def test_a_proposal_ready_for_review_tells_reviewers_and_owners(
    app, session, scenario, smtp, hooks
):
    with app.app_context():
        proposal = generate_proposal(
            session, Actor.system("scheduler"), scenario.company, "2026-12", NOW, submit=True
        )
        session.commit()
    rows = notices(session, "proposal_ready")
    assert sorted(n.user_id for n in rows) == sorted([scenario.owner.id, scenario.reviewer.id])
    assert all(n.company_id == scenario.company.id for n in rows)
    assert rows[0].link == f"/c/{scenario.company.slug}/proposals/2026-12"
    assert (
        "is ready for review" in rows[0].message and "875.00 USD to 2 projects" in rows[0].message
    )
    # Nothing is sent inside the transaction: e-mail and webhook wait in the queue.
    assert not smtp.messages and not hooks.requests
    assert deliver(app) == 2
    (mail,) = smtp.messages
    assert sorted(mail.recipients) == ["owner@acme.test", "reviewer@acme.test"]
    assert "proposal for 2026-12 is ready for review" in mail.message["Subject"]
    assert (
        f"https://tributary.example.test/c/{scenario.company.slug}/proposals/2026-12"
        in mail.message.get_payload()
    )
    (request,) = hooks.requests
    assert request.headers["X-Tributary-Event"] == "proposal.ready"
    assert proposal.state == "in_review"


def test_approval_notices_and_a_verifiable_webhook(app, session, scenario, smtp, hooks):
    with app.app_context():
        proposal = generate_proposal(
            session, Actor(user_id=scenario.reviewer.id), scenario.company, "2026-12", NOW
        )
        approve(session, Actor(user_id=scenario.owner.id), proposal, "go", NOW)
        session.commit()
    rows = notices(session, "proposal_approved")
    # Everyone who reviews, except the person who approved.
    assert [n.user_id for n in rows] == [scenario.reviewer.id]
    assert f"approved by {scenario.owner.login}" in rows[0].message
    assert deliver(app) == 2
    (request,) = hooks.requests
    body = request.content
    expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(request.headers["X-Tributary-Signature"], expected)
    assert verify(SECRET, body, request.headers["X-Tributary-Signature"])
    assert not verify("another-secret-entirely", body, request.headers["X-Tributary-Signature"])
    assert request.headers["X-Tributary-Event"] == "proposal.approved"
    assert request.headers["X-Tributary-Timestamp"] == str(int(NOW.timestamp()))
    assert request.headers["Content-Type"] == "application/json"
    document = json.loads(body)
    assert document["event"] == "proposal.approved"
    assert document["delivery"] == request.headers["X-Tributary-Delivery"]
    assert document["data"]["lines"] == [
        {"project": "github.com/left/pad", "amount": "650.00"},
        {"project": "github.com/fw/framework", "amount": "225.00"},
    ]
    assert document["data"]["company"] == scenario.company.slug
    (mail,) = smtp.messages
    assert mail.recipients == ["reviewer@acme.test"]


def test_a_failing_receiver_is_retried_and_never_undoes_the_approval(
    app, session, scenario, smtp, hooks
):
    hooks.status = 503
    smtp.refuse = True
    with app.app_context():
        proposal = generate_proposal(
            session, Actor(user_id=scenario.reviewer.id), scenario.company, "2026-12", NOW
        )
        approve(session, Actor(user_id=scenario.owner.id), proposal, None, NOW)
        session.commit()
    assert deliver(app) == 2
    tasks = session.exec(
        select(Task).where(col(Task.kind).in_([EMAIL_TASK, WEBHOOK_TASK])).order_by(Task.id)
    ).all()
    for queued in tasks:
        session.refresh(queued)
        assert queued.status == TaskStatus.queued and queued.attempts == 1
        assert queued.run_after > NOW  # backoff
    assert "HTTP 503" in next(t.last_error for t in tasks if t.kind == WEBHOOK_TASK)
    session.refresh(proposal)
    assert proposal.state == "approved"
    hooks.status = 200
    smtp.refuse = False
    assert deliver(app, NOW) == 0  # not due yet
    assert deliver(app, NOW + timedelta(minutes=5)) == 2
    assert len(hooks.requests) == 2 and len(smtp.messages) == 1
    # The retry sends the same body: the same delivery id and a valid signature.
    first, second = hooks.requests
    assert first.content == second.content
    assert verify(SECRET, second.content, second.headers["X-Tributary-Signature"])


def test_a_refused_approval_queues_nothing(app, session, scenario, hooks):
    policy = session.get(AllocationPolicy, scenario.company.id)
    policy.four_eyes = True
    session.add(policy)
    session.commit()
    with app.app_context():
        proposal = generate_proposal(
            session, Actor(user_id=scenario.owner.id), scenario.company, "2026-12", NOW
        )
        session.commit()
        with pytest.raises(ProposalError):
            approve(session, Actor(user_id=scenario.owner.id), proposal, None, NOW)
        session.rollback()
    assert not notices(session, "proposal_approved")
    assert not session.exec(select(Task).where(Task.status == TaskStatus.queued)).all()


def test_webhooks_to_private_addresses_are_not_sent(app, session, scenario):
    receiver = Hooks()
    app.extensions["tributary.webhooks"] = WebhookSender(
        user_agent="Tributary/test",
        transport=httpx.MockTransport(receiver),
        resolver=lambda host: ["10.0.0.7"],  # the name now points inside
    )
    with app.app_context():
        proposal = generate_proposal(
            session, Actor(user_id=scenario.reviewer.id), scenario.company, "2026-12", NOW
        )
        approve(session, Actor(user_id=scenario.owner.id), proposal, None, NOW)
        session.commit()
    deliver(app)
    assert not receiver.requests
    webhook = session.exec(select(Task).where(Task.kind == WEBHOOK_TASK)).one()
    session.refresh(webhook)
    assert "private or local address" in webhook.last_error
    app.extensions["tributary.webhooks"].close()


def test_no_email_when_the_policy_says_so(app, session, scenario, smtp):
    policy = session.get(AllocationPolicy, scenario.company.id)
    policy.notify_email = False
    session.add(policy)
    session.commit()
    with app.app_context():
        generate_proposal(
            session, Actor.system("scheduler"), scenario.company, "2026-12", NOW, submit=True
        )
        session.commit()
    assert not session.exec(select(Task).where(Task.kind == EMAIL_TASK)).all()
    assert len(notices(session, "proposal_ready")) == 2  # in-app notices always


def test_in_app_notices_are_shown_once_on_the_next_page(client, app, session, scenario):
    with app.app_context():
        generate_proposal(
            session, Actor.system("scheduler"), scenario.company, "2026-12", NOW, submit=True
        )
        session.commit()
    login(client, scenario.reviewer)
    html = client.get(f"/c/{scenario.company.slug}/").get_data(as_text=True)
    assert "is ready for review" in html
    html = client.get(f"/c/{scenario.company.slug}/").get_data(as_text=True)
    assert "is ready for review" not in html.split('<h2 id="attention">')[0]
