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
  that share Redis share them too;
* stops reading a body past ``max_bytes``;
* follows redirects itself, re-checking every hop, refusing loops, non-http(s)
  schemes and private addresses, and dropping credentials when the host changes;
* refuses hosts that resolve to loopback, private, link-local, shared or reserved
  addresses (SSRF guard; the resolver is injectable and an explicit allow-list lets
  tests reach a fake server on 127.0.0.1);
* sends conditional requests and reports ``304`` as ``not_modified``;
* counts requests per source so callers and benchmarks can see the load they cause.

Failures are raised as :class:`FetchError` with a short ``reason`` that callers store.

Known limit: the address check resolves the name before httpx connects, and httpx
resolves it again; a DNS answer that changes in between (rebinding) is not caught
here.  Deployments that fetch from attacker-chosen hosts should also egress through a
proxy or network policy that denies private ranges.
"""

from __future__ import annotations

import functools
import ipaddress
import json
import random
import socket
import ssl
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
from prometheus_client import Counter as MetricCounter

from service.core.outbound_limits import LocalLimits, OutboundLimits

__all__ = [
    "DEFAULT_MAX_BYTES",
    "BlockedAddressError",
    "FetchError",
    "FetchResult",
    "HTTPStatusError",
    "InvalidJSONError",
    "OutboundClient",
    "RateLimitedError",
    "RedirectError",
    "ResponseTooLargeError",
    "SourcePolicy",
    "TransportFailure",
    "is_forbidden_host",
    "is_public_address",
    "system_resolver",
    "user_agent",
]

DEFAULT_MAX_BYTES = 5 * 1024 * 1024
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})

Resolver = Callable[[str], Iterable[str]]


# --- errors ------------------------------------------------------------------


class FetchError(Exception):
    """An outbound request that did not produce a usable response.

    ``reason`` is short and stable (``timeout``, ``http_404``, ``rate_limited``,
    ``too_large``, ``invalid_json``, ``blocked_address``, ``redirect_loop`` …) so it
    can be stored and counted.
    """

    def __init__(
        self,
        reason: str,
        message: str = "",
        *,
        url: str | None = None,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message or reason)
        self.reason = reason
        self.url = url
        self.status = status
        self.retry_after = retry_after

    def __str__(self) -> str:
        base = super().__str__()
        return f"{base} ({self.url})" if self.url else base


class TransportFailure(FetchError):
    """Timeout, refused connection, reset, or a malformed HTTP exchange."""


class HTTPStatusError(FetchError):
    """A final non-success status (``http_<code>``)."""


class RateLimitedError(FetchError):
    """The server asked us to slow down for longer than we are willing to wait."""


class ResponseTooLargeError(FetchError):
    """The body exceeded the configured size cap (``too_large``)."""


class BlockedAddressError(FetchError):
    """Refused target: non-http(s) scheme or an address that is not public."""


class RedirectError(FetchError):
    """Redirect loop, too many redirects, or a redirect without a usable Location."""


class InvalidJSONError(FetchError):
    """The body was expected to be JSON and was not (``invalid_json``)."""


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


@dataclass(frozen=True, slots=True)
class SourcePolicy:
    """What a source asks of its clients, wherever it is served from (a mirror too)."""

    concurrency: int = 1
    interval: float = 0.0  # seconds between the starts of two requests


# --- results -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FetchResult:
    """A response: ``body`` is None on ``304 Not Modified``."""

    status: int
    body: bytes | None
    etag: str | None
    last_modified: str | None
    not_modified: bool
    headers: Mapping[str, str] = field(default_factory=dict)
    url: str = ""

    def json(self) -> Any:
        """Decode the body as JSON, raising :class:`InvalidJSONError` when it is not."""
        if self.body is None:
            raise InvalidJSONError("invalid_json", "no body to decode", url=self.url)
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            raise InvalidJSONError(
                "invalid_json", f"response is not JSON: {exc}", url=self.url
            ) from None

    @property
    def text(self) -> str:
        """The body decoded as UTF-8 (replacing bad bytes)."""
        return (self.body or b"").decode("utf-8", errors="replace")


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


def is_forbidden_host(host: str) -> bool:
    """True for IP literals, localhost and single-label or internal-only names."""
    host = host.strip("[]").rstrip(".").lower()
    if not host:
        return True
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return True
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal", ".localdomain")):
        return True
    return "." not in host


def is_public_address(address: str) -> bool:
    """True only for globally routable unicast addresses."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def system_resolver(host: str) -> list[str]:
    """Resolve ``host`` with the operating system's resolver."""
    infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    return sorted({str(info[4][0]) for info in infos})


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
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.max_retry_wait = max_retry_wait
        self.per_host_limit = max(1, per_host_limit)
        self.host_limits = {k.lower(): max(1, v) for k, v in (host_limits or {}).items()}
        self.source_policies = dict(source_policies or {})
        self.max_bytes = max_bytes
        self.max_redirects = max_redirects
        self.allow_hosts = frozenset(h.lower().strip("[]") for h in allow_hosts)
        self._resolver = resolver or system_resolver
        self._resolver_ttl = resolver_ttl
        self._sleep = sleep
        self._clock = clock
        self._monotonic = monotonic
        self._rng = rng or random.Random()
        self._lock = threading.Lock()
        self.limits = limits or LocalLimits(clock, sleep)
        self._dns_cache: dict[str, tuple[float, tuple[str, ...]]] = {}
        self._counts: Counter[str] = Counter()
        base_headers = {"User-Agent": self.user_agent}
        base_headers.update(headers or {})
        self._client = httpx.Client(
            transport=transport,
            verify=_default_ssl_context() if verify is None else verify,
            timeout=httpx.Timeout(
                connect=connect_timeout, read=read_timeout, write=read_timeout, pool=total_timeout
            ),
            follow_redirects=False,
            headers=base_headers,
            limits=httpx.Limits(max_connections=200, max_keepalive_connections=40),
            trust_env=trust_env,
        )

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
                result = _with_validators(result, etag, last_modified)
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
            host_key = self._limit_key(self._check_target(current), source)
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

    def _check_target(self, url: str) -> str:
        """Refuse non-web schemes and non-public addresses; return the host key."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            raise BlockedAddressError("invalid_url", "malformed URL", url=url) from None
        if parts.scheme.lower() not in {"http", "https"}:
            raise BlockedAddressError("blocked_scheme", "only http and https are fetched", url=url)
        host = (parts.hostname or "").lower().rstrip(".")
        if not host:
            raise BlockedAddressError("invalid_url", "URL has no host", url=url)
        port = port or (443 if parts.scheme.lower() == "https" else 80)
        host_key = f"{host}:{port}"
        if host in self.allow_hosts or host_key in self.allow_hosts:
            return host_key
        try:
            ipaddress.ip_address(host)
        except ValueError:
            addresses = self._resolve(host, url)
        else:
            addresses = (host,)
        if not addresses or not all(is_public_address(a) for a in addresses):
            raise BlockedAddressError(
                "blocked_address", f"{host} does not resolve to a public address", url=url
            )
        return host_key

    def _resolve(self, host: str, url: str) -> tuple[str, ...]:
        now = self._monotonic()
        with self._lock:
            cached = self._dns_cache.get(host)
        if cached and cached[0] > now:
            return cached[1]
        try:
            addresses = tuple(self._resolver(host))
        except (OSError, UnicodeError) as exc:
            raise TransportFailure("dns_error", f"cannot resolve {host}: {exc}", url=url) from None
        with self._lock:
            self._dns_cache[host] = (now + self._resolver_ttl, addresses)
        return addresses

    def _limit_key(self, host_key: str, source: str) -> str:
        """Limits follow a source with a policy to any host (a mirror); others, the host."""
        return f"source:{source}" if source in self.source_policies else host_key

    def _limit(self, key: str) -> tuple[int, float]:
        """(requests in flight, seconds between starts) allowed for a limit key."""
        if key.startswith("source:"):
            policy = self.source_policies[key.removeprefix("source:")]
            return max(1, policy.concurrency), policy.interval
        host = key.rsplit(":", 1)[0]
        return self.host_limits.get(key, self.host_limits.get(host, self.per_host_limit)), 0.0

    def _take_slot(self, key: str, url: str) -> str:
        """A slot, taken only while no pause is announced; the pause is checked after the
        slot is taken, as the request that announced it may have ended while this waited."""
        limit, interval = self._limit(key)
        while True:
            token = self.limits.acquire(key, limit, interval)
            until = self.limits.paused_until(key)
            if until is None:
                return token
            wait = until - self._clock()
            if wait <= 0:
                return token
            self.limits.release(key, token)
            if wait > self.max_retry_wait:
                raise RateLimitedError(
                    "rate_limited", "host rate limit window still open", url=url, retry_after=wait
                )
            self._sleep(wait)
            self.limits.resume(key, until)

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
        token = self._take_slot(host_key, url)
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


def _with_validators(
    result: FetchResult, etag: str | None, last_modified: str | None
) -> FetchResult:
    """A 304 may omit validators; keep the ones we sent so the cache stays valid."""
    return FetchResult(
        status=result.status,
        body=result.body,
        etag=result.etag or etag,
        last_modified=result.last_modified or last_modified,
        not_modified=result.not_modified,
        headers=result.headers,
        url=result.url,
    )
