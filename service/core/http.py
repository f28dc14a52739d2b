"""Outbound HTTP: one shared, polite, guarded ``httpx`` client per app.

Every call to a package registry, a metadata service or GitHub goes through
:class:`OutboundClient`, which

* names the service in its User-Agent and applies connect/read/total timeouts;
* retries 429, 5xx and transport failures with exponential backoff and jitter, waits
  as long as ``Retry-After`` (seconds or HTTP date) or GitHub's
  ``X-RateLimit-Remaining: 0`` / ``X-RateLimit-Reset`` ask, and gives up with
  ``rate_limited`` rather than wait longer than ``max_retry_wait``;
* keeps at most ``per_host_limit`` requests in flight per host, and a source's own
  policy (:class:`SourcePolicy`: fewer in flight, a spacing between requests) wherever
  that source is served from, a mirror included; a host that answers 429 with
  ``Retry-After``, or GitHub's exhausted quota, is paused as a whole; slots, spacing and
  pauses live behind :class:`~service.core.outbound_limits.OutboundLimits`, so processes
  that share Redis (or, without it, a PostgreSQL database) share them too;
* stops reading a body past ``max_bytes``;
* follows redirects itself, re-checking every hop, refusing loops, non-http(s)
  schemes and private addresses, and dropping credentials when the host changes;
* refuses hosts that resolve to loopback, private, link-local, shared or reserved
  addresses (SSRF guard; the resolver is injectable and an explicit allow-list lets
  tests reach a fake server on 127.0.0.1);
* sends conditional requests and reports ``304`` as ``not_modified``;
* counts requests per source so callers and benchmarks can see the load they cause.

Failures are raised as :class:`FetchError` with a short ``reason`` that callers store
(the results and errors are in :mod:`service.core.fetch_results`, the address checks and
their known limit in :mod:`service.core.addresses`).
"""

from __future__ import annotations

import functools
import random
import ssl
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
from prometheus_client import Counter as MetricCounter

from service.core.addresses import (
    AddressGuard,
    Resolver,
    is_forbidden_host,
    is_public_address,
    system_resolver,
)
from service.core.fetch_results import (
    BlockedAddressError,
    FetchError,
    FetchResult,
    HTTPStatusError,
    RateLimitedError,
    RedirectError,
    ResponseTooLargeError,
    TransportFailure,
    with_validators,
)
from service.core.outbound_limits import LocalLimits, OutboundLimits, SourcePolicy, Throttle

__all__ = [
    "DEFAULT_MAX_BYTES",
    "OutboundClient",
    "is_forbidden_host",
    "is_public_address",
    "record_outbound",
    "system_resolver",
    "user_agent",
]

DEFAULT_MAX_BYTES = 5 * 1024 * 1024
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})

# For /metrics (service.core.metrics adds up every process's).
OUTBOUND = MetricCounter(
    "tributary_outbound_requests_total",
    "Requests to outside sources, by source and answer (an HTTP status or a failure)",
    ["source", "answer"],
)


def record_outbound(source: str, answer: str) -> None:
    OUTBOUND.labels(source, answer).inc()


def _transport_failure(exc: httpx.TransportError, url: str) -> FetchError:
    """The failure to report for an exchange that got no answer."""
    if isinstance(exc, httpx.TimeoutException):
        return TransportFailure("timeout", str(exc) or "timed out", url=url)
    if isinstance(exc, httpx.UnsupportedProtocol):
        return BlockedAddressError("blocked_scheme", str(exc), url=url)
    if isinstance(exc, httpx.ConnectError):
        return TransportFailure("connect_error", str(exc), url=url)
    return TransportFailure("network_error", str(exc), url=url)


class _Retry(Exception):
    """Internal: this attempt failed in a way worth retrying."""

    def __init__(
        self,
        error: FetchError,
        wait: float | None = None,
        host_window: tuple[str, float] | None = None,
    ) -> None:
        super().__init__(str(error))
        self.error = error
        self.wait = wait
        self.host_window = host_window


# --- helpers -------------------------------------------------------------------


def user_agent(version: str | None = None, contact_url: str | None = None) -> str:
    """``Tributary/<version> (+<contact_url>)``."""
    ua = f"Tributary/{version or _package_version()}"
    return f"{ua} (+{contact_url})" if contact_url else ua


def _package_version() -> str:
    try:
        from importlib.metadata import PackageNotFoundError, version
    except ImportError:  # pragma: no cover
        return "dev"
    try:
        return version("tributary")
    except PackageNotFoundError:
        return "dev"


@functools.cache
def _default_ssl_context() -> ssl.SSLContext:
    """One verifying TLS context for every client (building one costs tens of ms)."""
    try:
        import certifi
    except ImportError:  # pragma: no cover - certifi ships with httpx
        return ssl.create_default_context()
    return ssl.create_default_context(cafile=certifi.where())


def _parse_retry_after(value: str | None, now: float) -> float | None:
    """``Retry-After`` as seconds from now (delta-seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - now)


def _pooled_client(
    transport: httpx.BaseTransport | None,
    verify: ssl.SSLContext | bool | None,
    timeout: httpx.Timeout,
    headers: Mapping[str, str],
    trust_env: bool,
) -> httpx.Client:
    """The pooled httpx client under every request; it follows no redirect itself (each
    hop is checked first)."""
    return httpx.Client(
        transport=transport,
        verify=_default_ssl_context() if verify is None else verify,
        timeout=timeout,
        follow_redirects=False,
        headers=headers,
        limits=httpx.Limits(max_connections=200, max_keepalive_connections=40),
        trust_env=trust_env,
    )


# --- the client ----------------------------------------------------------------


class OutboundClient:
    """The app's single outbound HTTP client (thread-safe)."""

    def __init__(
        self,
        *,
        version: str | None = None,
        contact_url: str | None = None,
        connect_timeout: float = 5.0,
        read_timeout: float = 20.0,
        total_timeout: float = 60.0,
        max_retries: int = 3,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        max_retry_wait: float = 60.0,
        per_host_limit: int = 4,
        host_limits: Mapping[str, int] | None = None,
        source_policies: Mapping[str, SourcePolicy] | None = None,
        limits: OutboundLimits | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
        max_redirects: int = 5,
        allow_hosts: Iterable[str] = (),
        resolver: Resolver | None = None,
        resolver_ttl: float = 300.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
        transport: httpx.BaseTransport | None = None,
        headers: Mapping[str, str] | None = None,
        trust_env: bool = True,
        verify: ssl.SSLContext | bool | None = None,
    ) -> None:
        self.user_agent = user_agent(version, contact_url)
        self.total_timeout = total_timeout
        self.max_retries = max(0, max_retries)
        self.backoff_base, self.backoff_max = backoff_base, backoff_max
        self.max_retry_wait = max_retry_wait
        self.max_bytes = max_bytes
        self.max_redirects = max_redirects
        self._guard = AddressGuard(
            allow_hosts, resolver or system_resolver, resolver_ttl, monotonic
        )
        self._sleep, self._clock, self._monotonic = sleep, clock, monotonic
        self._rng = rng or random.Random()
        self._lock = threading.Lock()
        self.limits = limits or LocalLimits(clock, sleep)
        self._throttle = Throttle(
            self.limits,
            per_host_limit=per_host_limit,
            host_limits=host_limits or {},
            source_policies=source_policies or {},
            max_retry_wait=max_retry_wait,
            clock=clock,
            sleep=sleep,
        )
        self._counts: Counter[str] = Counter()
        timeout = httpx.Timeout(
            connect=connect_timeout, read=read_timeout, write=read_timeout, pool=total_timeout
        )
        headers = {"User-Agent": self.user_agent, **(headers or {})}
        self._client = _pooled_client(transport, verify, timeout, headers, trust_env)

    # -- lifecycle ---------------------------------------------------------------

    def close(self) -> None:
        """Close pooled connections."""
        self._client.close()

    def __enter__(self) -> OutboundClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- counters ----------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        """Requests actually sent, per source (retries and redirect hops included)."""
        with self._lock:
            return dict(self._counts)

    def reset_counts(self) -> None:
        """Zero the per-source counters."""
        with self._lock:
            self._counts.clear()

    # -- public request API ------------------------------------------------------

    def get(
        self,
        url: str,
        etag: str | None = None,
        last_modified: str | None = None,
        *,
        source: str = "other",
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        max_bytes: int | None = None,
    ) -> FetchResult:
        """GET ``url``; with ``etag``/``last_modified`` send a conditional request."""
        return self.request(
            "GET",
            url,
            source=source,
            headers=headers,
            params=params,
            etag=etag,
            last_modified=last_modified,
            max_bytes=max_bytes,
        )

    def get_json(
        self,
        url: str,
        etag: str | None = None,
        last_modified: str | None = None,
        *,
        source: str = "other",
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        max_bytes: int | None = None,
    ) -> tuple[Any, FetchResult]:
        """GET and decode JSON; the data is None when the answer was 304."""
        merged = {"Accept": "application/json"}
        merged.update(headers or {})
        result = self.get(
            url,
            etag,
            last_modified,
            source=source,
            headers=merged,
            params=params,
            max_bytes=max_bytes,
        )
        if result.not_modified or result.status == 204:
            return None, result
        return result.json(), result

    def post_json(
        self,
        url: str,
        payload: Any,
        *,
        source: str = "other",
        headers: Mapping[str, str] | None = None,
        max_bytes: int | None = None,
        idempotent: bool = True,
    ) -> FetchResult:
        """POST a JSON body (retried only when the caller says it is idempotent)."""
        merged = {"Accept": "application/json"}
        merged.update(headers or {})
        return self.request(
            "POST",
            url,
            source=source,
            headers=merged,
            json_body=payload,
            max_bytes=max_bytes,
            retry=idempotent,
        )

    def request(
        self,
        method: str,
        url: str,
        *,
        source: str = "other",
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        json_body: Any = None,
        etag: str | None = None,
        last_modified: str | None = None,
        max_bytes: int | None = None,
        retry: bool = True,
    ) -> FetchResult:
        """Send a request with retries, redirect checks and the size cap."""
        request_headers = dict(headers or {})
        if etag:
            request_headers["If-None-Match"] = etag
        if last_modified:
            request_headers["If-Modified-Since"] = last_modified
        if params:
            url = str(httpx.URL(url).copy_merge_params(dict(params)))
        limit = self.max_bytes if max_bytes is None else max_bytes
        attempt = 0
        while True:
            try:
                result = self._follow(method, url, request_headers, json_body, source, limit)
            except _Retry as retry_signal:
                attempt += 1
                error = retry_signal.error
                if not retry or attempt > self.max_retries:
                    raise error from None
                wait = retry_signal.wait
                if wait is None:
                    wait = self._backoff(attempt)
                elif wait > self.max_retry_wait:
                    raise RateLimitedError(
                        "rate_limited",
                        f"server asked to wait {wait:.0f}s, more than {self.max_retry_wait:.0f}s",
                        url=error.url,
                        status=error.status,
                        retry_after=wait,
                    ) from None
                self._sleep(wait)
                if retry_signal.host_window:
                    # We just waited out the announced window ourselves.
                    self.limits.resume(*retry_signal.host_window)
                continue
            if result.not_modified:
                result = with_validators(result, etag, last_modified)
            return result

    # -- internals ---------------------------------------------------------------

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff with 'equal jitter': half fixed, half random."""
        ceiling = min(self.backoff_max, self.backoff_base * (2 ** (attempt - 1)))
        return ceiling / 2 + self._rng.uniform(0, ceiling / 2)

    def _follow(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        json_body: Any,
        source: str,
        limit: int,
    ) -> FetchResult:
        visited: set[str] = set()
        current = url
        current_headers = dict(headers)
        current_method = method
        body = json_body
        for _hop in range(self.max_redirects + 1):
            if current in visited:
                raise RedirectError("redirect_loop", "redirect loop", url=current)
            visited.add(current)
            host_key = self._throttle.key(self._guard.check(current), source)
            outcome = self._send_once(
                current_method, current, current_headers, body, source, limit, host_key
            )
            if isinstance(outcome, FetchResult):
                return outcome
            status, location = outcome
            target = urljoin(current, location)
            if _origin(target) != _origin(current):
                current_headers = {
                    k: v for k, v in current_headers.items() if k.lower() != "authorization"
                }
            if status == 303 or (status in {301, 302} and current_method == "POST"):
                current_method, body = "GET", None
            current = target
        raise RedirectError("too_many_redirects", "too many redirects", url=url)

    def _note_rate_limit(self, host_key: str, response: httpx.Response) -> float | None:
        """Pause the host on GitHub-style ``X-RateLimit-Remaining: 0``; return the reset."""
        if response.headers.get("x-ratelimit-remaining", "").strip() != "0":
            return None
        try:
            reset = float(response.headers.get("x-ratelimit-reset", ""))
        except ValueError:
            return None
        self.limits.pause(host_key, reset)
        return reset

    def _send_once(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        json_body: Any,
        source: str,
        limit: int,
        host_key: str,
    ) -> FetchResult | tuple[int, str]:
        """One HTTP exchange; returns a result, or (status, Location) to follow."""
        token = self._throttle.take_slot(host_key, url)
        deadline = self._monotonic() + self.total_timeout
        try:
            with self._lock:
                self._counts[source] += 1
            try:
                request = self._client.build_request(method, url, headers=headers, json=json_body)
                response = self._client.send(request, stream=True)
            except httpx.InvalidURL as exc:
                raise BlockedAddressError("invalid_url", str(exc), url=url) from None
            except httpx.TransportError as exc:
                failure = _transport_failure(exc, url)
                record_outbound(source, failure.reason)
                if isinstance(failure, BlockedAddressError):
                    raise failure from None
                raise _Retry(failure) from None
            record_outbound(source, str(response.status_code))
            try:
                return self._handle(response, url, limit, host_key, deadline)
            finally:
                response.close()
        finally:
            self.limits.release(host_key, token)

    def _handle(
        self, response: httpx.Response, url: str, limit: int, host_key: str, deadline: float
    ) -> FetchResult | tuple[int, str]:
        status = response.status_code
        reset = self._note_rate_limit(host_key, response)
        reset_wait = max(0.0, reset - self._clock()) if reset is not None else None
        if status in _REDIRECT_STATUSES:
            location = response.headers.get("location")
            if not location:
                raise RedirectError("redirect_invalid", f"{status} without Location", url=url)
            return status, location
        if status == 304:
            return FetchResult(
                status=304,
                body=None,
                etag=response.headers.get("etag"),
                last_modified=response.headers.get("last-modified"),
                not_modified=True,
                headers=response.headers,
                url=url,
            )
        retry_after = _parse_retry_after(response.headers.get("retry-after"), self._clock())
        # GitHub says "slow down" with 403: an exhausted quota, or Retry-After (secondary).
        throttled = status == 403 and (reset is not None or retry_after is not None)
        if status == 429 or status >= 500 or throttled:
            wait = retry_after if retry_after is not None else reset_wait
            reason = "rate_limited" if status in {403, 429} else f"http_{status}"
            error_cls = RateLimitedError if status in {403, 429} else HTTPStatusError
            window = None
            if retry_after is not None:
                # "Slow down" speaks for the whole host: every request to it waits.
                window = (host_key, self._clock() + retry_after)
                self.limits.pause(*window)
            elif reset is not None:
                window = (host_key, reset)
            raise _Retry(
                error_cls(reason, f"HTTP {status}", url=url, status=status, retry_after=wait),
                wait,
                window,
            )
        if not 200 <= status < 300:
            raise HTTPStatusError(f"http_{status}", f"HTTP {status}", url=url, status=status)
        body = self._read_capped(response, url, limit, deadline)
        return FetchResult(
            status=status,
            body=body,
            etag=response.headers.get("etag"),
            last_modified=response.headers.get("last-modified"),
            not_modified=False,
            headers=response.headers,
            url=url,
        )

    def _read_capped(
        self, response: httpx.Response, url: str, limit: int, deadline: float
    ) -> bytes:
        declared = response.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise ResponseTooLargeError(
                "too_large", f"declared {declared} bytes, limit {limit}", url=url
            )
        chunks: list[bytes] = []
        total = 0
        try:
            for chunk in response.iter_bytes():
                total += len(chunk)
                if total > limit:
                    raise ResponseTooLargeError("too_large", f"body exceeds {limit} bytes", url=url)
                if self._monotonic() > deadline:
                    raise _Retry(TransportFailure("timeout", "body read too slow", url=url))
                chunks.append(chunk)
        except httpx.TimeoutException as exc:
            raise _Retry(TransportFailure("timeout", str(exc) or "timed out", url=url)) from None
        except httpx.DecodingError as exc:
            raise TransportFailure("decoding_error", str(exc), url=url) from None
        except httpx.TransportError as exc:
            raise _Retry(TransportFailure("network_error", str(exc), url=url)) from None
        return b"".join(chunks)


def _origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) — credentials never cross from one origin to another."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port or {"https": 443, "http": 80}.get(scheme)
    except ValueError:
        port = None
    return scheme, (parts.hostname or "").lower(), port
