"""Step 5, across months: what becomes of the money earlier months held. Pure.

An approved proposal that holds a project's share *reserves* it: the money stays with
the company, set aside for that project's maintainers. A reserve is the run of held
amounts of consecutive approved proposals up to the last one; next month decides its fate
with the same eligibility rule the split uses, before the split runs:

- the project is still unclaimed and within its hold: the reserve stays (the month holds
  its share again, and the reserve grows);
- the project is now claimed, or gained a funding channel: the reserve is **caught up**,
  paid as a line of its own beside the month's share;
- anything else (the hold ran out, the policy now skips unclaimed projects, the OSPO or
  the policy excluded it, no product uses it any more): the reserve is **re-spread**,
  added to the month's budget and split over the others, and the proposal says from where.

So every reserved cent is paid once, to its project or to the others, and never twice:
a caught-up or re-spread project is not held that month, which ends its run.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from service.allocation.engine.eligibility import ineligible
from service.allocation.engine.model import Candidate
from service.allocation.policy import Policy


@dataclass(frozen=True)
class Reserve:
    """Money held for one project by the latest approved proposals, in a row."""

    project_id: int
    key: str
    amount: int  # minor units
    months: int  # how many approved proposals in a row held it
    since: str  # the period of the first of them, "YYYY-MM"

    def to_dict(self) -> dict[str, Any]:
        return {
            "project_id": self.project_id,
            "key": self.key,
            "amount_minor": self.amount,
            "months": self.months,
            "since": self.since,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Reserve:
        return cls(
            int(data["project_id"]),
            str(data["key"]),
            int(data["amount_minor"]),
            int(data["months"]),
            str(data["since"]),
        )


@dataclass(frozen=True)
class Respread:
    reserve: Reserve
    why: str


@dataclass(frozen=True)
class Release:
    caught_up: tuple[Reserve, ...]  # paid to their projects this month
    respread: tuple[Respread, ...]  # added to this month's budget
    kept: tuple[Reserve, ...]  # still held

    @property
    def caught_up_total(self) -> int:
        return sum(r.amount for r in self.caught_up)

    @property
    def respread_total(self) -> int:
        return sum(r.reserve.amount for r in self.respread)

    @property
    def released_total(self) -> int:
        return self.caught_up_total + self.respread_total

    def to_dict(self) -> dict[str, Any]:
        return {
            "caught_up": [r.to_dict() for r in self.caught_up],
            "respread": [r.reserve.to_dict() | {"why": r.why} for r in self.respread],
            "kept": [r.to_dict() for r in self.kept],
        }


def release(
    reserves: Iterable[Reserve], candidates: Mapping[str, Candidate], policy: Policy
) -> Release:
    """Decide each reserve's fate from this month's candidates (keyed by project key)."""
    caught_up: list[Reserve] = []
    respread: list[Respread] = []
    kept: list[Reserve] = []
    for reserve in sorted(reserves, key=lambda r: r.key):
        candidate = candidates.get(reserve.key)
        if candidate is None:
            respread.append(Respread(reserve, "no product uses it any more"))
            continue
        refused = ineligible(candidate, policy)
        if refused is not None:
            respread.append(Respread(reserve, refused[1]))
        elif candidate.claimed:
            caught_up.append(reserve)
        else:
            kept.append(reserve)
    return Release(tuple(caught_up), tuple(respread), tuple(kept))


def catch_up_reason(reserve: Reserve, currency_amount: str) -> str:
    months = "1 month" if reserve.months == 1 else f"{reserve.months} months"
    return (
        f"catch-up: {currency_amount} held for its maintainers for {months} since "
        f"{reserve.since}, released now that the project can be paid"
    )
