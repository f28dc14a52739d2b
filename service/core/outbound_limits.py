"""Outbound limits shared by every thread and process that calls the same outside service.

Three things are shared per *limit key* (a host, or a source whose policy follows it to a
mirror, e.g. ``source:crates``):

* slots: at most ``limit`` requests in flight;
* spacing: at least ``interval`` seconds between the starts of two requests;
* a pause: "send nothing before ``until``" (a 429 with ``Retry-After``, GitHub's
  exhausted quota), which every process honours once one of them was told.

:class:`LocalLimits` keeps them in this process (tests, one worker). :class:`RedisLimits`
keeps them in Redis (``REDIS_URL``) so every process on every machine shares them; a slot
is a lease that expires, so a process that dies holding one frees it by itself.
``outbound_pauses.DatabaseLimits`` shares all three through the database, for processes
without Redis. Times are epoch seconds from the caller's clock.
"""

from __future__ import annotations

import math
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from service.core.fetch_results import RateLimitedError

__all__ = ["LocalLimits", "OutboundLimits", "RedisLimits", "SourcePolicy", "Throttle"]


class OutboundLimits(Protocol):
    """Slots, spacing and pauses per limit key."""

    def acquire(self, key: str, limit: int, interval: float) -> str:
        """Block until a slot is free and the spacing has passed; return the slot's token."""
        ...

    def release(self, key: str, token: str) -> None: ...

    def pause(self, key: str, until: float) -> None:
        """Send nothing for ``key`` before ``until`` (a later pause wins)."""
        ...

    def paused_until(self, key: str) -> float | None: ...

    def resume(self, key: str, until: float) -> None:
        """Lift the pause that ends at ``until`` (it was waited out); a newer one stays."""
        ...


@dataclass(frozen=True, slots=True)
class SourcePolicy:
    """What a source asks of its clients, wherever it is served from (a mirror too)."""

    concurrency: int = 1
    interval: float = 0.0  # seconds between the starts of two requests


class Throttle:
    """Which limit key a request counts against, and its slot, taken under that key's
    limits and only while no pause is announced for it."""

    def __init__(
        self,
        limits: OutboundLimits,
        *,
        per_host_limit: int,
        host_limits: Mapping[str, int],
        source_policies: Mapping[str, SourcePolicy],
        max_retry_wait: float,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
    ) -> None:
        self.limits = limits
        self.per_host_limit = max(1, per_host_limit)
        self.host_limits = {k.lower(): max(1, v) for k, v in host_limits.items()}
        self.source_policies = dict(source_policies)
        self.max_retry_wait = max_retry_wait
        self._clock = clock
        self._sleep = sleep

    def key(self, host_key: str, source: str) -> str:
        """Limits follow a source with a policy to any host (a mirror); others, the host."""
        return f"source:{source}" if source in self.source_policies else host_key

    def _limit(self, key: str) -> tuple[int, float]:
        """(requests in flight, seconds between starts) allowed for a limit key."""
        if key.startswith("source:"):
            policy = self.source_policies[key.removeprefix("source:")]
            return max(1, policy.concurrency), policy.interval
        host = key.rsplit(":", 1)[0]
        return self.host_limits.get(key, self.host_limits.get(host, self.per_host_limit)), 0.0

    def take_slot(self, key: str, url: str) -> str:
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


@dataclass
class _Key:
    in_flight: int = 0
    next_start: float = 0.0
    paused_until: float | None = None
    changed: threading.Condition = field(default_factory=threading.Condition)


class LocalLimits:
    """The limits of one process: a condition variable per key."""

    def __init__(self, clock: Callable[[], float], sleep: Callable[[float], None]) -> None:
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._keys: dict[str, _Key] = {}

    def _state(self, key: str) -> _Key:
        with self._lock:
            return self._keys.setdefault(key, _Key())

    def acquire(self, key: str, limit: int, interval: float) -> str:
        state = self._state(key)
        with state.changed:
            while state.in_flight >= limit:
                state.changed.wait()
            state.in_flight += 1
            start = max(self._clock(), state.next_start)
            state.next_start = start + interval
        wait = start - self._clock()
        if wait > 0:
            self._sleep(wait)
        return key

    def release(self, key: str, token: str) -> None:
        state = self._state(key)
        with state.changed:
            state.in_flight -= 1
            state.changed.notify()

    def pause(self, key: str, until: float) -> None:
        state = self._state(key)
        with state.changed:
            state.paused_until = max(until, state.paused_until or until)

    def paused_until(self, key: str) -> float | None:
        state = self._state(key)
        with state.changed:
            return state.paused_until

    def resume(self, key: str, until: float) -> None:
        state = self._state(key)
        with state.changed:
            if state.paused_until is not None and state.paused_until <= until:
                state.paused_until = None


# KEYS: slots zset, spacing key. ARGV: now, limit, interval, token, lease end.
# Frees expired leases, then takes a slot when one is free: returns 0 when taken and the
# spacing allows a start now, the seconds to wait before starting otherwise, -1 when full.
_ACQUIRE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return '-1' end
redis.call('ZADD', KEYS[1], ARGV[5], ARGV[4])
redis.call('PEXPIRE', KEYS[1], math.ceil((tonumber(ARGV[5]) - tonumber(ARGV[1])) * 1000))
local now = tonumber(ARGV[1])
local start = math.max(now, tonumber(redis.call('GET', KEYS[2]) or '0'))
local interval = tonumber(ARGV[3])
if interval > 0 then
  redis.call('SET', KEYS[2], tostring(start + interval), 'PX', math.ceil(interval * 1000) + 1000)
end
return tostring(start - now)
"""
# KEYS: pause key. ARGV: until, milliseconds until then. Keeps the later pause; the key
# expires when it ends (measured from now, so the caller's clock decides, not the server's).
_PAUSE = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > current then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
end
return 1
"""
_RESUME = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if current > 0 and current <= tonumber(ARGV[1]) then redis.call('DEL', KEYS[1]) end
return 1
"""


class RedisLimits:
    """The limits in Redis, for every process that points at the same server and prefix."""

    def __init__(
        self,
        redis: Any,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
        *,
        prefix: str = "tributary:outbound",
        lease: float = 120.0,
        poll: float = 0.02,
    ) -> None:
        self._redis = redis
        self._clock = clock
        self._sleep = sleep
        self._prefix = prefix
        self._lease = lease
        self._poll = poll
        self._acquire = redis.register_script(_ACQUIRE)
        self._pause = redis.register_script(_PAUSE)
        self._resume = redis.register_script(_RESUME)

    @classmethod
    def from_url(cls, url: str, clock, sleep, **kwargs: Any) -> RedisLimits:
        import redis

        return cls(redis.Redis.from_url(url), clock, sleep, **kwargs)

    def _key(self, kind: str, key: str) -> str:
        return f"{self._prefix}:{kind}:{key}"

    def acquire(self, key: str, limit: int, interval: float) -> str:
        token = uuid.uuid4().hex
        while True:
            now = self._clock()
            answer = float(
                self._acquire(
                    keys=[self._key("slots", key), self._key("next", key)],
                    args=[now, limit, interval, token, now + self._lease],
                )
            )
            if answer >= 0:
                if answer > 0:
                    self._sleep(answer)
                return token
            self._sleep(self._poll)

    def release(self, key: str, token: str) -> None:
        self._redis.zrem(self._key("slots", key), token)

    def pause(self, key: str, until: float) -> None:
        remaining = until - self._clock()
        if remaining > 0:
            self._pause(keys=[self._key("pause", key)], args=[until, math.ceil(remaining * 1000)])

    def paused_until(self, key: str) -> float | None:
        value = self._redis.get(self._key("pause", key))
        return float(value) if value is not None else None

    def resume(self, key: str, until: float) -> None:
        self._resume(keys=[self._key("pause", key)], args=[until])
