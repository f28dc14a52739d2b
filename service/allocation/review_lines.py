"""The review page's lines: one proposal's lines filtered, sorted and paged, with what
the page shows beside them (the change against last time, adjustments, people)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from sqlmodel import Session

from service.accounts.models import User
from service.allocation.models import Adjustment, LineKind, Proposal, ProposalLine
from service.allocation.queries import (
    Diff,
    LineSummary,
    People,
    adjustments_of,
    diff_against_previous,
    line_index,
    lines_by_id,
    people_of,
    users_by_id,
)

KINDS = ("line", "catch_up", "held")
SORTS = ("amount", "project", "risk", "weight", "share", "products", "change")
FLAGS = ("capped", "boosted", "overridden", "pinned", "adjusted", "new", "changed")
PER_PAGE = 100  # lines per page (as the dependency table); ?per_page= shows more
MAX_PER_PAGE = 10_000
MAX_PAGE = 100_000
OMITTED_SHOWN = 100  # omitted projects listed before "show all"


@dataclass(frozen=True)
class LineQuery:
    q: str = ""
    kind: str = ""  # "", or one of KINDS
    flag: str = ""
    risk_min: float | None = None
    sort: str = "amount"
    order: str = "desc"
    page: int = 1
    per_page: int = PER_PAGE
    all_omitted: bool = False
    revision: int | None = None  # an earlier revision being looked at

    def params(self, **changes: Any) -> dict[str, Any]:
        values = {
            "q": self.q,
            "kind": self.kind,
            "flag": self.flag,
            "risk_min": "" if self.risk_min is None else f"{self.risk_min:g}",
            "sort": self.sort,
            "order": self.order,
            "page": "" if self.page == 1 else self.page,
            "per_page": "" if self.per_page == PER_PAGE else self.per_page,
            "revision": self.revision,
        }
        values.update(changes)
        return {k: v for k, v in values.items() if v not in ("", None)}


def default_order(sort: str) -> str:
    return "asc" if sort == "project" else "desc"


@dataclass(frozen=True)
class ReviewLines:
    query: LineQuery  # its page within the pages there are
    lines: list[ProposalLine]  # this page's
    matching: int
    pages: int
    total_payable: int
    paid_count: int  # projects paid (held ones are not)
    keys: dict[int, str]  # {project id: key} of every line
    omitted: list[ProposalLine]  # those shown
    omitted_total: int
    omitted_counts: list[tuple[str, int]]  # (reason code, projects)
    diff: Diff
    adjustments: list[Adjustment]
    active: dict[int, list[Adjustment]]  # {project id: adjustments not removed}
    people: dict[int, People]  # of the lines shown
    users: dict[int, User]  # who generated, edited, submitted, decided, adjusted


def review_lines(session: Session, proposal: Proposal, query: LineQuery) -> ReviewLines:
    index = line_index(session, proposal.id)
    payable = [line for line in index if line.kind != LineKind.omitted.value]
    omitted = [line for line in index if line.kind == LineKind.omitted.value]
    diff = diff_against_previous(
        session,
        proposal,
        {
            line.project_key: line.amount_minor
            for line in payable
            if line.kind != LineKind.catch_up.value  # one-off: not the project's monthly line
        },
    )
    adjustments = adjustments_of(session, proposal.id)
    active: dict[int, list[Adjustment]] = defaultdict(list)
    for adjustment in adjustments:
        if adjustment.removed_at is None:
            active[adjustment.project_id].append(adjustment)
    matching = _filter(payable, query, diff, active)
    matching.sort(key=lambda line: line.project_key)
    matching.sort(key=_sort_key(query.sort, diff), reverse=query.order == "desc")
    pages = max(1, -(-len(matching) // query.per_page))
    query = replace(query, page=min(query.page, pages))
    start = (query.page - 1) * query.per_page
    shown = lines_by_id(session, [line.id for line in matching[start : start + query.per_page]])
    listed = omitted if query.all_omitted else omitted[:OMITTED_SHOWN]
    return ReviewLines(
        query=query,
        lines=shown,
        matching=len(matching),
        pages=pages,
        total_payable=len(payable),
        paid_count=len({line.project_id for line in payable if line.kind != LineKind.held.value}),
        keys={line.project_id: line.project_key for line in index},
        omitted=lines_by_id(session, [line.id for line in listed]),
        omitted_total=len(omitted),
        omitted_counts=_counts(omitted),
        diff=diff,
        adjustments=adjustments,
        active=active,
        people=people_of(session, [line.project_id for line in shown]),
        users=users_by_id(
            session,
            [
                proposal.generated_by_id,
                proposal.decided_by_id,
                proposal.last_edited_by_id,
                proposal.submitted_by_id,
                *(a.user_id for a in adjustments),
            ],
        ),
    )


def _sort_key(sort: str, diff: Diff) -> Callable[[LineSummary], Any]:
    if sort == "project":
        return lambda line: line.project_key
    if sort == "risk":
        return lambda line: -1.0 if line.risk is None else line.risk
    if sort == "products":
        return lambda line: line.product_count
    if sort == "change":
        return lambda line: diff.change_of(line.project_key, line.amount_minor) or 0
    if sort in ("weight", "share"):
        return lambda line: getattr(line, sort)
    return lambda line: line.amount_minor


def _filter(
    lines: list[LineSummary],
    query: LineQuery,
    diff: Diff,
    active: dict[int, list[Adjustment]],
) -> list[LineSummary]:
    needle = query.q.casefold()
    shown = []
    for line in lines:
        if query.kind and line.kind != query.kind:
            continue
        if needle and needle not in line.project_key.casefold():
            continue
        if query.risk_min is not None and (line.risk is None or line.risk < query.risk_min):
            continue
        if query.flag:
            change = diff.change_of(line.project_key, line.amount_minor)
            if query.flag == "adjusted":
                if not active.get(line.project_id):
                    continue
            elif query.flag == "new":
                if diff.previous is None or change is not None:
                    continue
            elif query.flag == "changed":
                if not change:
                    continue
            elif query.flag not in line.flags:
                continue
        shown.append(line)
    return shown


def _counts(omitted: list[LineSummary]) -> list[tuple[str, int]]:
    counts: dict[str, int] = defaultdict(int)
    for line in omitted:
        counts[line.omitted_code or "other"] += 1
    return sorted(counts.items())
