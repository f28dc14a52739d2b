"""Sending notices outside Tributary: e-mail through SMTP, and signed webhooks.

Each goes through a small interface (``MailSender``, ``WebhookPoster``) with the real
implementation and twins that send nothing, chosen by ``TRIBUTARY_MAIL_BACKEND``
(``smtp``, ``console``: logged, the default while no SMTP host is set, ``null``) and
``TRIBUTARY_WEBHOOK_BACKEND`` (``http``, the default, ``console``, ``null``).

Both run from the task queue after the change they announce has committed, so a slow or
failing receiver never holds up (or undoes) an approval; a failure raises, and the queue
retries the task with backoff.

Webhooks: ``POST`` of a JSON body with

- ``X-Tributary-Event``: the event name (``proposal.ready``, ``proposal.approved``);
- ``X-Tributary-Delivery``: a unique id of this delivery (the same on retries);
- ``X-Tributary-Timestamp``: Unix seconds when this attempt was sent;
- ``X-Tributary-Signature``: ``sha256=<hex HMAC-SHA256 of the raw body with the secret>``.

Receivers verify the signature over the exact bytes received (before parsing the JSON),
compare with a constant-time function, and may reject old deliveries by the body's
``occurred_at`` or a repeated ``delivery`` id. The URL must be https (http only outside
production) and must not point at a private, loopback or link-local address; the check
is made on the addresses the name resolves to, just before sending, and the request goes
to the address checked. Odd spellings of IP addresses are stored as the address.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import smtplib
import socket
import ssl
from collections.abc import Callable, Iterable
from email.message import EmailMessage
from functools import cached_property
from typing import Protocol
from urllib.parse import urlsplit, urlunsplit

import httpx

from service import __version__
from service.core.clock import utcnow
from service.core.http import is_forbidden_host, is_public_address, system_resolver
from service.settings import Settings

SIGNATURE_HEADER = "X-Tributary-Signature"
EVENT_HEADER = "X-Tributary-Event"
DELIVERY_HEADER = "X-Tributary-Delivery"
TIMESTAMP_HEADER = "X-Tributary-Timestamp"
MAX_RESPONSE_BYTES = 64 * 1024

log = logging.getLogger(__name__)


class DeliveryError(RuntimeError):
    """A notice could not be delivered this time (the queue retries it)."""


# E-mail ------------------------------------------------------------------------------------


class MailSender(Protocol):
    def send(self, to: list[str], subject: str, body: str) -> None:
        """Send one plain-text message; raise DeliveryError to have the queue retry."""


class SmtpMailSender:
    """Sends through the configured SMTP server."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def send(self, to: list[str], subject: str, body: str) -> None:
        settings = self.settings
        if not settings.smtp_host:
            raise DeliveryError("SMTP is not configured (TRIBUTARY_SMTP_HOST is unset)")
        message = EmailMessage()
        message["From"] = settings.smtp_from
        message["To"] = ", ".join(to)
        message["Subject"] = subject
        message.set_content(body)
        with smtplib.SMTP(
            settings.smtp_host, settings.smtp_port, timeout=settings.http_timeout
        ) as smtp:
            if settings.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.smtp_user:
                smtp.login(settings.smtp_user, settings.smtp_password or "")
            smtp.send_message(message)


class ConsoleMailSender:
    """Logs each message instead of sending it (the demo, and wherever SMTP is unset)."""

    def send(self, to: list[str], subject: str, body: str) -> None:
        log.info("e-mail not sent (console backend) to %s: %s\n%s", ", ".join(to), subject, body)


class NullMailSender:
    """Drops each message (e-mail is then not even queued: see allocation.notices)."""

    def send(self, to: list[str], subject: str, body: str) -> None:
        log.debug("e-mail %r dropped (null backend)", subject)


def build_mail_sender(settings: Settings) -> MailSender:
    if settings.mail_backend == "smtp":
        return SmtpMailSender(settings)
    return ConsoleMailSender() if settings.mail_backend == "console" else NullMailSender()


# Webhooks ----------------------------------------------------------------------------------


def sign(secret: str, body: bytes) -> str:
    """The signature header's value for ``body``: ``sha256=<hex>``."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify(secret: str, body: bytes, header: str | None) -> bool:
    """Whether ``header`` is the signature of ``body`` (what a receiver does)."""
    return bool(header) and hmac.compare_digest(sign(secret, body), header or "")


def normalize_webhook_url(url: str) -> str:
    """The URL with its host as written by an IP address parser when it is one in an odd
    spelling (``127.1``, ``0x7f.0.0.1``, ``2130706433``): checked and stored as the
    address it is (``127.0.0.1``), so no spelling slips past the private-address check."""
    text = url.strip()
    try:
        parts = urlsplit(text)
        host, port = parts.hostname, parts.port
    except ValueError:
        return text
    if not host or ":" in host:
        return text  # no host, or an IPv6 literal (one spelling only once parsed)
    try:
        address = socket.inet_ntoa(socket.inet_aton(host))
    except OSError:
        return text  # a name, not an address
    if address == host:
        return text
    userinfo = parts.netloc.rpartition("@")[0]
    netloc = (userinfo + "@" if userinfo else "") + address + (f":{port}" if port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def webhook_url_problem(
    url: str, *, allow_http: bool, allow_hosts: Iterable[str] = ()
) -> str | None:
    """Why ``url`` cannot be a webhook target (None when it can), without resolving it."""
    try:
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").lower()
    except ValueError:
        return "is not a valid URL"
    schemes = ("https", "http") if allow_http else ("https",)
    if parts.scheme not in schemes:
        return "must start with https://" if not allow_http else "must be an http(s) URL"
    if not host:
        return "has no host name"
    if parts.username or parts.password:
        return "must not carry a user name or password (use the signing secret)"
    if host not in {h.lower() for h in allow_hosts} and is_forbidden_host(host):
        return "points at a private or local address"
    return None


class WebhookPoster(Protocol):
    def post(self, url: str, secret: str, event: str, delivery: str, body: bytes) -> int | None:
        """Send once (the status when it was sent); raise DeliveryError to be retried."""

    def close(self) -> None: ...


class WebhookSender:
    """POSTs signed JSON bodies; one per app (tests give it a transport and a resolver)."""

    def __init__(
        self,
        *,
        user_agent: str,
        timeout: float = 10.0,
        allow_http: bool = False,
        allow_hosts: Iterable[str] = (),
        transport: httpx.BaseTransport | None = None,
        resolver: Callable[[str], list[str]] = system_resolver,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.allow_http = allow_http
        self.allow_hosts = frozenset(h.lower() for h in allow_hosts)
        self._resolver = resolver
        self._clock = clock or (lambda: utcnow().timestamp())
        self._user_agent = user_agent
        self._timeout = httpx.Timeout(timeout, connect=min(timeout, 5.0))
        self._transport = transport

    @cached_property
    def _client(self) -> httpx.Client:
        # Made on first post: every app has a sender, few post, and a client costs a TLS
        # context.
        return httpx.Client(
            transport=self._transport,
            timeout=self._timeout,
            follow_redirects=False,
            headers={"User-Agent": self._user_agent},
            trust_env=False,
        )

    def close(self) -> None:
        if "_client" in self.__dict__:
            self._client.close()

    def _checked_address(self, url: str) -> str | None:
        """The address to connect to, after checking every address the name has (None for
        an allowed host, which is connected to by name)."""
        problem = webhook_url_problem(url, allow_http=self.allow_http, allow_hosts=self.allow_hosts)
        if problem:
            raise DeliveryError(f"webhook URL {problem}")
        host = (urlsplit(url).hostname or "").lower()
        if host in self.allow_hosts:
            return None
        try:
            addresses = self._resolver(host)
        except OSError as exc:
            raise DeliveryError(f"webhook host {host} could not be resolved: {exc}") from None
        if not addresses or not all(is_public_address(a) for a in addresses):
            raise DeliveryError(f"webhook host {host} resolves to a private or local address")
        return addresses[0]

    def post(self, url: str, secret: str, event: str, delivery: str, body: bytes) -> int:
        """Send once; returns the status. Raises DeliveryError unless the answer is 2xx.

        The connection goes to the address that was checked, never to a second lookup of
        the name (DNS rebinding); the name stays in ``Host`` and in TLS (SNI and the
        certificate check)."""
        address = self._checked_address(url)
        target, extensions = url, {}
        if address is not None:
            parts = urlsplit(url)
            shown = f"[{address}]" if ":" in address else address
            target = urlunsplit(
                parts._replace(netloc=shown + (f":{parts.port}" if parts.port else ""))
            )
            extensions = {"sni_hostname": parts.hostname}
        headers = {
            "Content-Type": "application/json",
            EVENT_HEADER: event,
            DELIVERY_HEADER: delivery,
            TIMESTAMP_HEADER: str(int(self._clock())),
            SIGNATURE_HEADER: sign(secret, body),
        }
        if address is not None:
            headers["Host"] = urlsplit(url).netloc
        try:
            with self._client.stream(
                "POST", target, content=body, headers=headers, extensions=extensions
            ) as response:
                # Read a little of the answer at most: receivers owe us nothing but a status.
                received = 0
                for chunk in response.iter_bytes():
                    received += len(chunk)
                    if received >= MAX_RESPONSE_BYTES:
                        break
                status = response.status_code
        except httpx.HTTPError as exc:
            raise DeliveryError(f"webhook {event} to {url}: {type(exc).__name__}: {exc}") from None
        if not 200 <= status < 300:
            raise DeliveryError(f"webhook {event} to {url} answered HTTP {status}")
        return status


class ConsoleWebhookSender:
    """Logs each delivery instead of sending it."""

    def post(self, url: str, secret: str, event: str, delivery: str, body: bytes) -> None:
        log.info(
            "webhook %s (%s) to %s not sent (console backend): %s",
            event,
            delivery,
            url,
            body.decode(errors="replace"),
        )

    def close(self) -> None:
        pass


class NullWebhookSender:
    """Drops each delivery."""

    def post(self, url: str, secret: str, event: str, delivery: str, body: bytes) -> None:
        log.debug("webhook %s (%s) dropped (null backend)", event, delivery)

    def close(self) -> None:
        pass


def build_webhook_sender(settings: Settings) -> WebhookPoster:
    if settings.webhook_backend == "http":
        return WebhookSender(
            user_agent=f"Tributary/{__version__} (+{settings.contact_url})",
            timeout=settings.http_timeout,
            allow_http=not settings.is_production,
            allow_hosts=settings.outbound_allow_hosts,
        )
    if settings.webhook_backend == "console":
        return ConsoleWebhookSender()
    return NullWebhookSender()
