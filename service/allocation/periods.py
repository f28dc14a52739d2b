"""Allocation periods: one calendar month, written YYYY-MM."""

from __future__ import annotations

import re

from service.allocation.errors import ProposalError

PERIOD_PATTERN = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def check_period(period: str) -> str:
    period = (period or "").strip()
    if not PERIOD_PATTERN.match(period):
        raise ProposalError(f"{period!r} is not a period: expected YYYY-MM, e.g. 2026-12", "period")
    return period


def previous_period(period: str) -> str:
    year, month = (int(part) for part in check_period(period).split("-"))
    return f"{year - 1:04d}-12" if month == 1 else f"{year:04d}-{month - 1:02d}"
