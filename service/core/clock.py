"""Time in one place: timezone-aware UTC everywhere."""

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def current_period(now: datetime | None = None) -> str:
    """The allocation period ('YYYY-MM') that contains now."""
    now = now or utcnow()
    return f"{now.year:04d}-{now.month:02d}"
