"""The shared outbound client: retries, rate limits, caps, redirects, SSRF, concurrency."""

from __future__ import annotations

import os
import random
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import format_datetime

import httpx
import pytest

from service.core.addresses import is_public_address
from service.core.fetch_results import (
    BlockedAddressError,
    FetchError,
    HTTPStatusError,
    InvalidJSONError,
    RateLimitedError,
    RedirectError,
    ResponseTooLargeError,
)
from service.core.http import OutboundClient, user_agent
from service.core.outbound_limits import RedisLimits, SourcePolicy

PUBLIC_IP = "93.184.216.34"
NOW = 1_700_000_000.0
REDIS_URL = "redis://127.0.0.1:6379/5"


def public_resolver(host: str) -> list[str]:
    return [PUBLIC_IP]


class Recorder:
    """Collects the sleeps the client asks for instead of sleeping."""

    def __init__(self) -> None:
        self.sleeps: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.sleeps.append(seconds)


def make_client(
    handler: Callable[[httpx.Request], httpx.Response],
    *,
    sleep: Recorder | None = None,
    **kwargs,
) -> OutboundClient:
    kwargs.setdefault("resolver", public_resolver)
    kwargs.setdefault("rng", random.Random(7))
    kwargs.setdefault("clock", lambda: NOW)
    return OutboundClient(
        transport=httpx.MockTransport(handler),
        sleep=sleep or Recorder(),
        version="1.2.3",
        contact_url="https://tributary.example/contact",
        **kwargs,
    )


def sequence(*responses: httpx.Response) -> tuple[Callable[[httpx.Request], httpx.Response], list]:
    """A handler answering with the given responses in order (the last one repeats)."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return responses[min(len(seen) - 1, len(responses) - 1)]

    return handler, seen


# --- basics ---------------------------------------------------------------------------


def test_user_agent_names_the_service_and_contact():
    handler, seen = sequence(httpx.Response(200, json={"ok": True}))
    client = make_client(handler)
    data, result = client.get_json("https://registry.example/pypi/x/json", source="pypi")
    assert data == {"ok": True}
    assert seen[0].headers["user-agent"] == "Tributary/1.2.3 (+https://tributary.example/contact)"
    assert seen[0].headers["accept"] == "application/json"
    assert result.status == 200 and not result.not_modified
    assert user_agent("9", None) == "Tributary/9"


def test_counts_requests_per_source_including_retries():
    handler, _ = sequence(httpx.Response(503), httpx.Response(200, content=b"{}"))
    client = make_client(handler)
    client.get("https://a.example/x", source="pypi")
    client.get("https://b.example/y", source="npm")
    assert client.counts() == {"pypi": 2, "npm": 1}
    client.reset_counts()
    assert client.counts() == {}


def test_counter_is_thread_safe():
    handler, _ = sequence(httpx.Response(200, content=b"ok"))
    client = make_client(handler, per_host_limit=8)
    threads = [
        threading.Thread(
            target=lambda: [client.get("https://a.example/", source="s") for _ in range(25)]
        )
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert client.counts() == {"s": 200}


# --- retries and rate limits ----------------------------------------------------------------


def test_5xx_is_retried_with_exponential_backoff_and_jitter():
    handler, seen = sequence(
        httpx.Response(502), httpx.Response(503), httpx.Response(200, content=b"ok")
    )
    sleeps = Recorder()
    client = make_client(handler, sleep=sleeps, backoff_base=1.0)
    result = client.get("https://api.example/x")
    assert result.body == b"ok" and len(seen) == 3
    first, second = sleeps.sleeps
    assert 0.5 <= first <= 1.0  # half of 1s fixed, half random
    assert 1.0 <= second <= 2.0


def test_retry_after_seconds_is_honoured_exactly():
    handler, seen = sequence(
        httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(200, content=b"ok")
    )
    sleeps = Recorder()
    client = make_client(handler, sleep=sleeps)
    assert client.get("https://crates.example/api/v1/crates/serde").body == b"ok"
    assert sleeps.sleeps == [7.0]
    assert len(seen) == 2


def test_retry_after_http_date_is_honoured():
    when = datetime.fromtimestamp(NOW + 30, tz=UTC)
    handler, _ = sequence(
        httpx.Response(503, headers={"Retry-After": format_datetime(when, usegmt=True)}),
        httpx.Response(200, content=b"ok"),
    )
    sleeps = Recorder()
    client = make_client(handler, sleep=sleeps)
    client.get("https://api.example/x")
    assert sleeps.sleeps == [30.0]


def test_retry_after_beyond_the_cap_gives_up_without_waiting():
    handler, seen = sequence(httpx.Response(429, headers={"Retry-After": "3600"}))
    sleeps = Recorder()
    client = make_client(handler, sleep=sleeps, max_retry_wait=60)
    with pytest.raises(RateLimitedError) as info:
        client.get("https://api.example/x")
    assert info.value.reason == "rate_limited"
    assert info.value.retry_after == 3600
    assert sleeps.sleeps == [] and len(seen) == 1


def test_persistent_429_ends_as_rate_limited_after_max_retries():
    handler, seen = sequence(httpx.Response(429))
    client = make_client(handler, max_retries=2)
    with pytest.raises(RateLimitedError) as info:
        client.get("https://api.example/x")
    assert info.value.reason == "rate_limited" and info.value.status == 429
    assert len(seen) == 3


def test_persistent_500_ends_as_http_500():
    handler, seen = sequence(httpx.Response(500))
    client = make_client(handler, max_retries=1)
    with pytest.raises(HTTPStatusError) as info:
        client.get("https://api.example/x")
    assert info.value.reason == "http_500"
    assert len(seen) == 2


def test_404_is_not_retried():
    handler, seen = sequence(httpx.Response(404))
    client = make_client(handler)
    with pytest.raises(HTTPStatusError) as info:
        client.get("https://api.example/missing")
    assert info.value.reason == "http_404" and len(seen) == 1


def test_github_rate_limit_reset_is_waited_for_once():
    reset = int(NOW + 12)
    limited = httpx.Response(
        403, headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset)}
    )
    handler, seen = sequence(limited, httpx.Response(200, content=b"{}"))
    sleeps = Recorder()
    client = make_client(handler, sleep=sleeps)
    client.get("https://api.forge.example/repos/a/b", source="github")
    assert sleeps.sleeps == [12.0]
    assert len(seen) == 2


def test_github_rate_limit_far_in_the_future_is_reported_not_waited():
    limited = httpx.Response(
        403, headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(NOW + 3000))}
    )
    handler, seen = sequence(limited)
    sleeps = Recorder()
    client = make_client(handler, sleep=sleeps, max_retry_wait=60)
    with pytest.raises(RateLimitedError) as info:
        client.get("https://api.forge.example/repos/a/b")
    assert info.value.retry_after == pytest.approx(3000)
    assert sleeps.sleeps == [] and len(seen) == 1


def test_exhausted_quota_on_a_success_delays_the_next_request_to_that_host():
    ok_but_empty = httpx.Response(
        200,
        content=b"{}",
        headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(NOW + 5))},
    )
    handler, _seen = sequence(ok_but_empty, httpx.Response(200, content=b"{}"))
    sleeps = Recorder()
    client = make_client(handler, sleep=sleeps)
    client.get("https://api.forge.example/a")
    assert sleeps.sleeps == []
    client.get("https://api.forge.example/b")
    assert sleeps.sleeps == [5.0]
    client.get("https://other.example/c")  # another host is not held back
    assert sleeps.sleeps == [5.0]


def test_secondary_rate_limit_403_with_retry_after():
    handler, _ = sequence(
        httpx.Response(403, headers={"Retry-After": "3"}), httpx.Response(200, content=b"{}")
    )
    sleeps = Recorder()
    make_client(handler, sleep=sleeps).get("https://api.forge.example/x")
    assert sleeps.sleeps == [3.0]


def test_plain_403_is_final():
    handler, seen = sequence(httpx.Response(403))
    with pytest.raises(HTTPStatusError) as info:
        make_client(handler).get("https://api.forge.example/x")
    assert info.value.reason == "http_403" and len(seen) == 1


def test_timeouts_are_retried_then_reported():
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        raise httpx.ReadTimeout("slow", request=request)

    client = make_client(handler, max_retries=2)
    with pytest.raises(FetchError) as info:
        client.get("https://api.example/x")
    assert info.value.reason == "timeout" and len(calls) == 3


def test_connect_errors_are_retried_then_reported():
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    with pytest.raises(FetchError) as info:
        make_client(handler, max_retries=1).get("https://api.example/x")
    assert info.value.reason == "connect_error"


def test_non_idempotent_post_is_not_retried():
    handler, seen = sequence(httpx.Response(503))
    client = make_client(handler)
    with pytest.raises(HTTPStatusError):
        client.post_json("https://api.example/x", {"a": 1}, idempotent=False)
    assert len(seen) == 1


# --- bodies -------------------------------------------------------------------------------


def test_declared_size_over_the_cap_is_refused_before_reading():
    handler, _ = sequence(httpx.Response(200, content=b"x" * 2000))
    with pytest.raises(ResponseTooLargeError) as info:
        make_client(handler, max_bytes=1000).get("https://api.example/x")
    assert info.value.reason == "too_large"


def test_streamed_body_over_the_cap_stops_reading():
    produced = []

    def chunks():
        for _ in range(1000):
            produced.append(1)
            yield b"y" * 1024

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=chunks())  # no Content-Length

    with pytest.raises(ResponseTooLargeError):
        make_client(handler, max_bytes=10 * 1024).get("https://api.example/x")
    assert len(produced) < 20  # stopped early, did not drain the stream


def test_per_request_cap_overrides_the_default():
    handler, _ = sequence(httpx.Response(200, content=b"x" * 100))
    client = make_client(handler)
    with pytest.raises(ResponseTooLargeError):
        client.get("https://api.example/x", max_bytes=50)


def test_invalid_json_is_reported():
    handler, _ = sequence(httpx.Response(200, content=b"<html>not json"))
    with pytest.raises(InvalidJSONError) as info:
        make_client(handler).get_json("https://api.example/x")
    assert info.value.reason == "invalid_json"


# --- conditional requests --------------------------------------------------------------------


def test_conditional_request_gives_not_modified_on_304():
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.headers.get("if-none-match") == '"v1"':
            return httpx.Response(304, headers={"ETag": '"v1"'})
        return httpx.Response(
            200,
            json={"n": 1},
            headers={"ETag": '"v1"', "Last-Modified": "Wed, 01 May 2024 12:00:00 GMT"},
        )

    client = make_client(handler)
    first = client.get("https://registry.example/pypi/x/json")
    assert first.etag == '"v1"' and first.last_modified == "Wed, 01 May 2024 12:00:00 GMT"
    second = client.get("https://registry.example/pypi/x/json", etag=first.etag)
    assert second.not_modified and second.status == 304 and second.body is None
    assert second.etag == '"v1"'
    data, result = client.get_json("https://registry.example/pypi/x/json", etag='"v1"')
    assert data is None and result.not_modified


def test_if_modified_since_is_sent_and_validators_survive_a_bare_304():
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(304)

    result = make_client(handler).get(
        "https://x.example/a", etag='"e"', last_modified="Wed, 01 May 2024 12:00:00 GMT"
    )
    assert seen[0].headers["if-modified-since"] == "Wed, 01 May 2024 12:00:00 GMT"
    assert seen[0].headers["if-none-match"] == '"e"'
    assert result.not_modified
    assert result.etag == '"e"' and result.last_modified == "Wed, 01 May 2024 12:00:00 GMT"


# --- redirects ---------------------------------------------------------------------------------


def test_redirects_are_followed_and_credentials_stay_on_their_host():
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/start":
            return httpx.Response(301, headers={"Location": "/moved"})
        if request.url.path == "/moved":
            return httpx.Response(302, headers={"Location": "https://cdn.example/final"})
        return httpx.Response(200, content=b"done")

    client = make_client(handler)
    result = client.get("https://api.example/start", headers={"Authorization": "Bearer t"})
    assert result.body == b"done" and result.url == "https://cdn.example/final"
    assert seen[1].headers["authorization"] == "Bearer t"  # same host
    assert "authorization" not in seen[2].headers  # another host


def test_redirect_loop_is_detected():
    def handler(request: httpx.Request) -> httpx.Response:
        target = "/b" if request.url.path == "/a" else "/a"
        return httpx.Response(302, headers={"Location": target})

    with pytest.raises(RedirectError) as info:
        make_client(handler).get("https://api.example/a")
    assert info.value.reason == "redirect_loop"


def test_too_many_redirects():
    def handler(request: httpx.Request) -> httpx.Response:
        n = int(request.url.path.strip("/") or 0)
        return httpx.Response(302, headers={"Location": f"/{n + 1}"})

    with pytest.raises(RedirectError) as info:
        make_client(handler, max_redirects=3).get("https://api.example/0")
    assert info.value.reason == "too_many_redirects"


@pytest.mark.parametrize(
    ("location", "reason"),
    [
        ("file:///etc/passwd", "blocked_scheme"),
        ("gopher://x.example/", "blocked_scheme"),
        ("http://10.0.0.8/admin", "blocked_address"),
        ("http://169.254.169.254/latest/meta-data/", "blocked_address"),
        ("http://[::1]:8080/", "blocked_address"),
    ],
)
def test_redirects_to_other_schemes_or_private_addresses_are_refused(location, reason):
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(302, headers={"Location": location})

    with pytest.raises(BlockedAddressError) as info:
        make_client(handler).get("https://api.example/x")
    assert info.value.reason == reason
    assert len(seen) == 1  # the redirect target was never requested


# --- SSRF guard ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1/", "blocked_address"),
        ("http://localhost:5000/", "blocked_address"),
        ("http://10.1.2.3/", "blocked_address"),
        ("http://192.168.0.1/", "blocked_address"),
        ("http://172.16.5.4/", "blocked_address"),
        ("http://169.254.169.254/latest/meta-data/", "blocked_address"),
        ("http://100.64.0.1/", "blocked_address"),
        ("http://[::1]/", "blocked_address"),
        ("http://[fd00::1]/", "blocked_address"),
        ("http://[::ffff:127.0.0.1]/", "blocked_address"),
        ("http://0.0.0.0/", "blocked_address"),
        ("file:///etc/passwd", "blocked_scheme"),
        ("javascript:alert(1)", "blocked_scheme"),
        ("ftp://example.com/x", "blocked_scheme"),
    ],
)
def test_ssrf_guard_refuses_before_sending(url, reason):
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)

    def resolver(host: str) -> list[str]:
        return {"localhost": ["127.0.0.1", "::1"]}.get(host, [PUBLIC_IP])

    client = make_client(handler, resolver=resolver)
    with pytest.raises(BlockedAddressError) as info:
        client.get(url)
    assert info.value.reason == reason
    assert seen == []


def test_names_resolving_to_private_addresses_are_refused():
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)

    def resolver(host: str) -> list[str]:
        return {
            "internal.example": ["10.0.0.5"],
            "mixed.example": [PUBLIC_IP, "192.168.1.1"],
            "metadata.example": ["169.254.169.254"],
        }[host]

    client = make_client(handler, resolver=resolver)
    for host in ("internal.example", "mixed.example", "metadata.example"):
        with pytest.raises(BlockedAddressError):
            client.get(f"https://{host}/x")
    assert seen == []


def test_allow_list_admits_a_local_fake():
    handler, _seen = sequence(httpx.Response(200, content=b"fake"))
    client = make_client(handler, allow_hosts=["127.0.0.1"])
    assert client.get("http://127.0.0.1:8765/pypi/x/json").body == b"fake"
    with pytest.raises(BlockedAddressError):
        client.get("http://127.0.0.2:8765/")


def test_dns_failure_is_reported():
    def resolver(host: str) -> list[str]:
        raise OSError("no such host")

    handler, _ = sequence(httpx.Response(200))
    with pytest.raises(FetchError) as info:
        make_client(handler, resolver=resolver).get("https://nope.example/")
    assert info.value.reason == "dns_error"


def test_resolutions_are_cached():
    calls = []

    def resolver(host: str) -> list[str]:
        calls.append(host)
        return [PUBLIC_IP]

    handler, _ = sequence(httpx.Response(200))
    client = make_client(handler, resolver=resolver)
    for _ in range(5):
        client.get("https://registry.example/x")
    assert calls == ["registry.example"]


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("2606:4700::1111", True),
        ("127.0.0.1", False),
        ("10.0.0.1", False),
        ("169.254.1.1", False),
        ("224.0.0.1", False),
        ("::1", False),
        ("fe80::1", False),
        ("::ffff:10.0.0.1", False),
        ("not-an-ip", False),
    ],
)
def test_is_public_address(address, public):
    assert is_public_address(address) is public


# --- per-host concurrency -----------------------------------------------------------------------


def test_per_host_concurrency_limit_holds_under_20_threads():
    lock = threading.Lock()
    in_flight: dict[str, int] = defaultdict(int)
    peak: dict[str, int] = defaultdict(int)

    def handler(request: httpx.Request) -> httpx.Response:
        host = request.url.host
        with lock:
            in_flight[host] += 1
            peak[host] = max(peak[host], in_flight[host])
        time.sleep(0.02)
        with lock:
            in_flight[host] -= 1
        return httpx.Response(200, content=b"ok")

    client = make_client(handler, host_limits={"slow.example": 1})
    hosts = ["a.example", "b.example", "slow.example"]
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            for j in range(3):
                client.get(f"https://{hosts[(i + j) % 3]}/p/{i}/{j}")
        except BaseException as exc:  # pragma: no cover - surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert peak["a.example"] == 4
    assert peak["b.example"] == 4
    assert peak["slow.example"] == 1
    assert sum(client.counts().values()) == 60


# --- limits shared per host, per source and across processes -----------------------------------


class Clock:
    """A clock that moves only when the client sleeps."""

    def __init__(self) -> None:
        self.now = NOW
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_a_429_with_retry_after_pauses_every_request_to_that_host():
    clock = Clock()
    sent: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request.url.path)
        if len(sent) == 1:
            return httpx.Response(429, headers={"Retry-After": "5"})
        return httpx.Response(200, content=b"{}")

    other: list[bytes | None] = []

    def sleep(seconds: float) -> None:
        # While the first request waits, another request asks the same host.
        if not other:
            other.append(None)
            other[0] = client.get("https://registry.example/b").body
        clock.sleep(seconds)

    client = make_client(handler, sleep=sleep, clock=clock)
    assert client.get("https://registry.example/a").body == b"{}"
    # /b was not sent during the announced wait: it waited too, then went out.
    assert (sent, clock.sleeps, other) == (["/a", "/b", "/a"], [5.0, 5.0], [b"{}"])


def test_a_request_queued_for_a_slot_checks_the_pause_after_taking_it():
    started = threading.Event()
    release = threading.Event()
    sent: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request.url.path)
        started.set()
        release.wait(5)
        reset = str(int(NOW + 3000))
        return httpx.Response(
            403, headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset}
        )

    client = make_client(handler, host_limits={"api.forge.example": 1}, max_retry_wait=60)
    errors: list[str] = []

    def ask(path: str) -> None:
        try:
            client.get(f"https://api.forge.example{path}", source="github")
        except RateLimitedError as exc:
            errors.append(exc.reason)

    first = threading.Thread(target=ask, args=("/first",))
    first.start()
    started.wait(5)
    queued = threading.Thread(target=ask, args=("/queued",))
    queued.start()
    slots = client.limits._state("api.forge.example:443").changed
    while not slots._waiters:  # the queued request waits for the only slot
        time.sleep(0.001)
    release.set()
    first.join()
    queued.join()
    assert sent == ["/first"]
    assert errors == ["rate_limited", "rate_limited"]


def test_a_source_policy_follows_the_source_to_a_mirror():
    clock = Clock()
    handler, seen = sequence(httpx.Response(200, content=b"{}"))
    client = make_client(
        handler,
        sleep=clock.sleep,
        clock=clock,
        source_policies={"crates": SourcePolicy(concurrency=1, interval=1.0)},
    )
    for name in ("serde", "rand", "tokio"):
        client.get(f"https://crates-mirror.example/api/v1/crates/{name}", source="crates")
    client.get("https://crates-mirror.example/other", source="other")
    # One request a second for the crates source on a host the policy never named.
    assert clock.sleeps == [1.0, 1.0] and len(seen) == 4


def test_one_request_in_flight_for_a_source_policy_across_hosts():
    lock = threading.Lock()
    in_flight = [0, 0]

    def handler(request: httpx.Request) -> httpx.Response:
        with lock:
            in_flight[0] += 1
            in_flight[1] = max(in_flight)
        time.sleep(0.005)
        with lock:
            in_flight[0] -= 1
        return httpx.Response(200, content=b"{}")

    client = make_client(handler, source_policies={"crates": SourcePolicy(concurrency=1)})
    threads = [
        threading.Thread(
            target=client.get,
            args=(f"https://{host}/api/v1/crates/c{i}",),
            kwargs={"source": "crates"},
        )
        for i in range(8)
        for host in ("crates.example", "crates-mirror.example")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert in_flight[1] == 1


@pytest.fixture
def redis_limits():
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(os.environ.get("TRIBUTARY_TEST_REDIS_URL", REDIS_URL))
    try:
        client.ping()
    except redis.RedisError as exc:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip(f"no Redis at {REDIS_URL}: {exc}")
    prefix = f"tributary-test:{uuid.uuid4().hex}"

    def limits(clock):
        return RedisLimits(client, clock, clock.sleep, prefix=prefix, poll=0.001)

    yield limits
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)


def test_a_pause_one_process_was_told_holds_every_process_sharing_redis(redis_limits):
    clock = Clock()
    reset = str(int(NOW + 3000))
    first, first_seen = sequence(
        httpx.Response(403, headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset})
    )
    second, second_seen = sequence(httpx.Response(200, content=b"{}"))
    one = make_client(first, clock=clock, sleep=clock.sleep, limits=redis_limits(clock))
    two = make_client(second, clock=clock, sleep=clock.sleep, limits=redis_limits(clock))
    with pytest.raises(RateLimitedError):
        one.get("https://api.forge.example/repos/a/b", source="github")
    with pytest.raises(RateLimitedError):
        two.get("https://api.forge.example/repos/c/d", source="github")
    assert (len(first_seen), len(second_seen)) == (1, 0)


def test_slots_and_spacing_are_shared_through_redis(redis_limits):
    clock = Clock()
    handler, seen = sequence(httpx.Response(200, content=b"{}"))
    policy = {"crates": SourcePolicy(concurrency=1, interval=1.0)}
    one = make_client(
        handler, clock=clock, sleep=clock.sleep, limits=redis_limits(clock), source_policies=policy
    )
    two = make_client(
        handler, clock=clock, sleep=clock.sleep, limits=redis_limits(clock), source_policies=policy
    )
    one.get("https://crates.example/api/v1/crates/a", source="crates")
    two.get("https://crates.example/api/v1/crates/b", source="crates")
    one.get("https://crates.example/api/v1/crates/c", source="crates")
    assert clock.sleeps == [1.0, 1.0] and len(seen) == 3
    limits = redis_limits(clock)
    token = limits.acquire("source:crates", 1, 0.0)
    limits.release("source:crates", token)
