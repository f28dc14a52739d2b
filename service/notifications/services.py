"""Notices for people: in-app rows now, e-mail and webhooks queued for after the commit.

`notify` adds in-app notices in the caller's transaction. `queue_email` and
`queue_webhook` add tasks to the queue in the same transaction, so they exist only if the
change they announce commits, and are sent by the scheduler's queue afterwards (retried
with backoff when the receiver fails; see service.notifications.delivery).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from flask import current_app, has_app_context
from sqlmodel import Session, col, select

from service.accounts.models import User
from service.companies.models import Membership, Role
from service.core.clock import utcnow
from service.core.services import get_settings
from service.jobs.queue import enqueue
from service.notifications.models import Notification

if TYPE_CHECKING:
    from service.notifications.delivery import MailSender, WebhookPoster

EMAIL_TASK = "notifications.email"
WEBHOOK_TASK = "notifications.webhook"
# Keys of the app's senders in app.extensions (create_app stores them; tests put their
# own in place).
MAIL_SENDER = "tributary.mail"
WEBHOOK_SENDER = "tributary.webhooks"


def notify(
    session: Session,
    user_ids: Iterable[int],
    kind: str,
    message: str,
    *,
    company_id: int | None = None,
    link: str | None = None,
    now: datetime | None = None,
) -> list[Notification]:
    """An in-app notice for each person (once each), in the caller's transaction."""
    created = []
    for user_id in dict.fromkeys(user_ids):
        notice = Notification(
            user_id=user_id,
            company_id=company_id,
            kind=kind[:40],
            message=message[:1000],
            link=link,
            created_at=now or utcnow(),
        )
        session.add(notice)
        created.append(notice)
    return created


def take_unread(session: Session, user_id: int, now: datetime | None = None) -> list[Notification]:
    """A person's unread notices, oldest first, marked read (each is shown once)."""
    unread = session.exec(
        select(Notification)
        .where(Notification.user_id == user_id, col(Notification.read_at).is_(None))
        .order_by(col(Notification.id))
    ).all()
    for notice in unread:
        notice.read_at = now or utcnow()
        session.add(notice)
    return list(unread)


def recent(session: Session, user_id: int, limit: int = 50) -> list[Notification]:
    return list(
        session.exec(
            select(Notification)
            .where(Notification.user_id == user_id)
            .order_by(col(Notification.id).desc())
            .limit(limit)
        ).all()
    )


def company_people(session: Session, company_id: int, minimum: Role = Role.reviewer) -> list[User]:
    """Members with at least the `minimum` role (reviewers and owners by default)."""
    roles = [role for role in Role if role.at_least(minimum)]
    return list(
        session.exec(
            select(User)
            .join(Membership, col(Membership.user_id) == User.id)
            .where(Membership.company_id == company_id, col(Membership.role).in_(roles))
            .order_by(col(User.id))
        ).all()
    )


def queue_email(
    session: Session,
    to: Iterable[str],
    subject: str,
    body: str,
    *,
    company_id: int | None = None,
    unique_key: str | None = None,
) -> None:
    """Queue one message (sent after the commit; nothing when nobody has an address)."""
    recipients = sorted({address.strip() for address in to if address and "@" in address})
    if not recipients:
        return
    enqueue(
        session,
        EMAIL_TASK,
        {"to": recipients, "subject": subject[:200], "body": body},
        unique_key=unique_key,
        company_id=company_id,
    )


def webhook_body(event: str, data: dict[str, Any], now: datetime) -> tuple[str, str]:
    """(delivery id, the exact JSON text that is signed and sent)."""
    delivery = str(uuid.uuid4())
    body = {
        "event": event,
        "delivery": delivery,
        "occurred_at": now.isoformat().replace("+00:00", "Z"),
        "data": data,
    }
    return delivery, json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def queue_webhook(
    session: Session,
    *,
    url: str,
    sealed_secret: str,
    event: str,
    data: dict[str, Any],
    company_id: int | None = None,
    now: datetime | None = None,
) -> str:
    """Queue one signed POST; the secret travels sealed, the body is fixed now. Returns
    the delivery id."""
    delivery, body = webhook_body(event, data, now or utcnow())
    enqueue(
        session,
        WEBHOOK_TASK,
        {
            "url": url,
            "secret": sealed_secret,
            "event": event,
            "delivery": delivery,
            "body": body,
        },
        unique_key=f"webhook:{delivery}",
        company_id=company_id,
    )
    return delivery


def get_mail_sender() -> MailSender:
    return current_app.extensions[MAIL_SENDER]


def get_webhook_sender() -> WebhookPoster:
    return current_app.extensions[WEBHOOK_SENDER]


def absolute_link(path: str) -> str:
    """An absolute URL for e-mails when the public URL is known, else the path."""
    if has_app_context():
        base = get_settings().public_url
        if base:
            return base.rstrip("/") + path
    return path
