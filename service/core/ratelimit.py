"""Rate limits on sign-in, uploads and the API, shared by every web process through Redis.

Three groups, each one bucket per client across all of its routes:

- ``signin``: starting and finishing a sign-in, per client address;
- ``uploads``: SBOM uploads (the page, the API, the Dependency-Track compatible
  ``/api/v1/bom``), per API token or signed-in user, else per address;
- ``api``: every ``/api/`` request, per API token, else per address.

An upload through the API counts in both its groups. The limits are settings
(``TRIBUTARY_RATE_LIMIT_*``, in the limits library's notation: "60 per minute;
1000 per day"). Counters live in Redis when ``REDIS_URL`` is set, so all web processes
on all hosts count together, else in the process's memory. A request over a limit gets
429 with ``Retry-After`` (seconds), answered by the app's error handler like any other.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable

from flask import Flask, current_app, request, session
from flask_limiter import ApplicationLimit, Limiter

from service.core.services import get_settings
from service.settings import Settings

LIMITER = "tributary.limiter"  # the key of the app's Limiter in app.extensions
SIGNIN_ENDPOINTS = frozenset(
    {"accounts.github_login", "accounts.github_callback", "accounts.demo_login"}
)
UPLOAD_ENDPOINTS = frozenset(
    {"sboms.upload", "sboms_api.upload_sbom", "dtrack_api.put_bom", "dtrack_api.post_bom"}
)
_WRITES = frozenset({"POST", "PUT"})


def client_address() -> str:
    """The client's address: the connection's, or behind `forwarded_hops` proxies the one
    the outermost of them put in X-Forwarded-For (the entries to its left are the
    client's to forge)."""
    hops = get_settings().forwarded_hops
    if hops:
        chain = [part.strip() for part in request.headers.get("X-Forwarded-For", "").split(",")]
        if len(chain) >= hops and chain[-hops]:
            return chain[-hops]
    return request.remote_addr or "unknown"


def client_key() -> str:
    """The API token (hashed: the key store never holds a usable one), the signed-in
    user, or the address."""
    token = request.headers.get("X-Api-Key") or _bearer()
    if token:
        return "token:" + hashlib.sha256(token.strip().encode()).hexdigest()[:32]
    user_id = session.get("user_id") if not request.path.startswith("/api/") else None
    if user_id is not None:
        return f"user:{user_id}"
    return "addr:" + client_address()


def _bearer() -> str | None:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    return value if scheme.lower() == "bearer" and value.strip() else None


def in_group(group: str) -> bool:
    endpoint = request.endpoint or ""
    if group == "signin":
        return endpoint in SIGNIN_ENDPOINTS
    if group == "uploads":
        return endpoint in UPLOAD_ENDPOINTS and request.method in _WRITES
    return request.path.startswith("/api/")


def _limit(group: str, value: str, key: Callable[[], str]) -> ApplicationLimit:
    return ApplicationLimit(
        value,
        scope=group,
        key_function=key,
        exempt_when=lambda: not in_group(group),
    )


def init_rate_limits(app: Flask, settings: Settings) -> None:
    """Attach the limiter to `app` (off when the setting says so)."""
    limiter = Limiter(
        client_key,
        application_limits=[
            _limit("signin", settings.rate_limit_signin, client_address),
            _limit("uploads", settings.rate_limit_uploads, client_key),
            _limit("api", settings.rate_limit_api, client_key),
        ],
        storage_uri=settings.redis_url or "memory://",
        # Redis out of reach: count in memory meanwhile rather than fail every request.
        in_memory_fallback_enabled=True,
        # Flask-Limiter's headers would put Retry-After on every answer: the 429 alone
        # carries it (`retry_after`).
        headers_enabled=False,
        strategy="moving-window",
        key_prefix="tributary",
        enabled=settings.rate_limits_enabled,
    )
    limiter.init_app(app)
    app.extensions[LIMITER] = limiter


def retry_after() -> int:
    """Seconds until the limit this request broke lets the client in again."""
    breached = current_app.extensions[LIMITER].current_limit
    return max(1, breached.reset_at - int(time.time())) if breached else 1
