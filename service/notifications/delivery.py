"""Sending notices outside Tributary: e-mail through SMTP, and signed webhooks.

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
import smtplib
import socket
import ssl
from collections.abc import Callable, Iterable
from email.message import EmailMessage
from urllib.parse import urlsplit, urlunsplit

import httpx

from service.core.clock import utcnow
from service.core.http import is_forbidden_host, is_public_address, system_resolver
from service.settings import Settings

SIGNATURE_HEADER = "X-Tributary-Signature"
EVENT_HEADER = "X-Tributary-Event"
DELIVERY_HEADER = "X-Tributary-Delivery"
TIMESTAMP_HEADER = "X-Tributary-Timestamp"
MAX_RESPONSE_BYTES = 64 * 1024


class DeliveryError(RuntimeError):
    """A notice could not be delivered this time (the queue retries it)."""


# E-mail ------------------------------------------------------------------------------------


def smtp_configured(settings: Settings) -> bool:
    return bool(settings.smtp_host)


def send_email(settings: Settings, to: list[str], subject: str, body: str) -> None:
    """Send one plain-text message through the configured SMTP server."""
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
        self._client = httpx.Client(
            transport=transport,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
            follow_redirects=False,
            headers={"User-Agent": user_agent},
            trust_env=False,
        )

    def close(self) -> None:
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
