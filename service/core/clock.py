"""Time in one place: timezone-aware UTC everywhere, from one injectable clock.

Every service asks `utcnow()`; nothing reads the system clock directly. Tests (and
anything else that needs a controlled time) install another clock with `use_clock`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    """The real time, optionally shifted (the test suite moves it to prove it is date-free)."""

    def __init__(self, shift: timedelta = timedelta()) -> None:
        self.shift = shift

    def now(self) -> datetime:
        return datetime.now(UTC) + self.shift


class FixedClock:
    """A clock that stands still until told to move."""

    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware time")
        self.at = at

    def now(self) -> datetime:
        return self.at

    def advance(self, by: timedelta) -> datetime:
        self.at += by
        return self.at


_clock: Clock = SystemClock()


def utcnow() -> datetime:
    return _clock.now()


def set_clock(clock: Clock) -> Clock:
    """Install `clock` for the whole process; returns the one it replaced."""
    global _clock
    previous, _clock = _clock, clock
    return previous


@contextmanager
def use_clock(clock: Clock) -> Iterator[Clock]:
    previous = set_clock(clock)
    try:
        yield clock
    finally:
        set_clock(previous)


def current_period(now: datetime | None = None) -> str:
    """The allocation period ('YYYY-MM') that contains now."""
    now = now or utcnow()
    return f"{now.year:04d}-{now.month:02d}"
