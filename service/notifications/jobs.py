"""Background delivery of notices (run by `tributary scheduler`'s task queue).

* ``notifications.email`` — ``{"to": [...], "subject", "body"}`` through the mail sender;
* ``notifications.webhook`` — ``{"url", "secret" (sealed), "event", "delivery", "body"}``
  POSTed with its signature.

A failure raises, so the queue records it and retries with backoff (at most five
attempts). Nothing here is sent inside the transaction of the change it announces.
"""

from __future__ import annotations

import logging
from datetime import datetime

from service.core.services import get_secrets
from service.jobs.registry import task
from service.notifications.services import (
    EMAIL_TASK,
    WEBHOOK_TASK,
    get_mail_sender,
    get_webhook_sender,
)

log = logging.getLogger(__name__)


@task(EMAIL_TASK)
def send_email(payload: dict, now: datetime) -> None:
    get_mail_sender().send(list(payload["to"]), payload["subject"], payload["body"])


@task(WEBHOOK_TASK)
def send_webhook(payload: dict, now: datetime) -> None:
    secret = get_secrets().open(payload["secret"])
    if secret is None:
        # The key changed since the webhook was configured: retrying cannot help.
        log.error("webhook %s not sent: its secret cannot be opened", payload.get("delivery"))
        return
    get_webhook_sender().post(
        payload["url"], secret, payload["event"], payload["delivery"], payload["body"].encode()
    )
