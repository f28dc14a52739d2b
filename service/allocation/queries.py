"""Reading proposals, their lines and the people behind them (no state changes)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import case, func
from sqlmodel import Session, col, select

from service.accounts.models import User
from service.allocation.models import (
    OPEN_STATES,
    Adjustment,
    LineKind,
    Proposal,
    ProposalLine,
    ProposalState,
)
from service.companies.models import Company
from service.money import format_amount
from service.projects.models import ClaimStatus, FundingChannel, ProjectClaim

INSERT_CHUNK = 1000


def proposals_of_period(session: Session, company_id: int, period: str) -> list[Proposal]:
    return list(
        session.exec(
            select(Proposal)
            .where(Proposal.company_id == company_id, Proposal.period == period)
            .order_by(col(Proposal.revision).desc())
        ).all()
    )


def proposals_of(session: Session, company_id: int, limit: int = 120) -> list[Proposal]:
    return list(
        session.exec(
            select(Proposal)
            .where(Proposal.company_id == company_id)
            .order_by(col(Proposal.period).desc(), col(Proposal.revision).desc())
            .limit(limit)
        ).all()
    )


def proposal_for(
    session: Session, company_id: int, period: str, revision: int | None = None
) -> Proposal | None:
    """The proposal to show for a period: the given revision, else the approved one, else
    the open one, else the latest."""
    revisions = proposals_of_period(session, company_id, period)
    if revision is not None:
        return next((p for p in revisions if p.revision == revision), None)
    return _shown(revisions)


def _shown(revisions: list[Proposal]) -> Proposal | None:
    """Of a period's revisions (newest first), the approved one, else the open one, else
    the latest."""
    for wanted in (ProposalState.approved.value, *OPEN_STATES):
        found = next((p for p in revisions if p.state == wanted), None)
        if found is not None:
            return found
    return revisions[0] if revisions else None


def current_or_latest(session: Session, company_id: int, period: str) -> Proposal | None:
    """The proposal of `period` as `proposal_for` picks it, else the latest of any period
    (the company home's), in one query: the revisions of the period to show."""
    shown_period = (
        select(
            func.coalesce(
                func.max(case((Proposal.period == period, Proposal.period))),
                func.max(Proposal.period),
            )
        )
        .where(Proposal.company_id == company_id)
        .scalar_subquery()
    )
    revisions = list(
        session.exec(
            select(Proposal)
            .where(Proposal.company_id == company_id, Proposal.period == shown_period)
            .order_by(col(Proposal.revision).desc())
        ).all()
    )
    if revisions and revisions[0].period == period:
        return _shown(revisions)
    return revisions[0] if revisions else None


def previous_approved(session: Session, company_id: int, period: str) -> Proposal | None:
    """The latest approved proposal of a period before `period` (what the diff compares)."""
    return session.exec(
        select(Proposal)
        .where(
            Proposal.company_id == company_id,
            Proposal.state == ProposalState.approved.value,
            col(Proposal.period) < period,
        )
        .order_by(col(Proposal.period).desc())
        .limit(1)
    ).first()


def lines_of(session: Session, proposal_id: int) -> list[ProposalLine]:
    return list(
        session.exec(
            select(ProposalLine)
            .where(ProposalLine.proposal_id == proposal_id)
            .order_by(col(ProposalLine.amount_minor).desc(), col(ProposalLine.project_key))
        ).all()
    )


def adjustments_of(session: Session, proposal_id: int) -> list[Adjustment]:
    return list(
        session.exec(
            select(Adjustment)
            .where(Adjustment.proposal_id == proposal_id)
            .order_by(col(Adjustment.id))
        ).all()
    )


def amount_of(session: Session, proposal_id: int, project_id: int) -> int:
    row = session.exec(
        select(ProposalLine.amount_minor).where(
            ProposalLine.proposal_id == proposal_id, ProposalLine.project_id == project_id
        )
    ).first()
    return row or 0


@dataclass(frozen=True, slots=True)
class LineSummary:
    """The columns the review page sorts and filters by (no reasons, no product lists)."""

    id: int
    project_id: int
    project_key: str
    kind: str
    amount_minor: int
    share: float
    weight: float
    risk: float | None
    flags: list[str]
    product_count: int
    omitted_code: str | None


def line_index(session: Session, proposal_id: int) -> list[LineSummary]:
    """Every line of a proposal, light: amount first, then project key."""
    rows = session.exec(
        select(
            ProposalLine.id,
            ProposalLine.project_id,
            ProposalLine.project_key,
            ProposalLine.kind,
            ProposalLine.amount_minor,
            ProposalLine.share,
            ProposalLine.weight,
            ProposalLine.risk,
            ProposalLine.flags,
            func.json_array_length(ProposalLine.products),
            ProposalLine.omitted_code,
        )
        .where(ProposalLine.proposal_id == proposal_id)
        .order_by(col(ProposalLine.amount_minor).desc(), col(ProposalLine.project_key))
    ).all()
    return [LineSummary(*row[:8], list(row[8] or []), row[9] or 0, row[10]) for row in rows]


def lines_by_id(session: Session, ids: Sequence[int]) -> list[ProposalLine]:
    """Full lines for the given ids, in the given order."""
    found: dict[int, ProposalLine] = {}
    for start in range(0, len(ids), INSERT_CHUNK):
        chunk = list(ids[start : start + INSERT_CHUNK])
        found.update(
            (line.id, line)
            for line in session.exec(select(ProposalLine).where(col(ProposalLine.id).in_(chunk)))
        )
    return [found[i] for i in ids if i in found]


def paid_amounts(session: Session, proposal_id: int) -> dict[str, int]:
    """{project key: amount} of a proposal's paid and held lines."""
    return dict(
        session.exec(
            select(ProposalLine.project_key, ProposalLine.amount_minor).where(
                ProposalLine.proposal_id == proposal_id,
                col(ProposalLine.kind).in_([LineKind.line.value, LineKind.held.value]),
            )
        ).all()
    )


def current_amounts(session: Session, company_id: int) -> dict[int, int]:
    """{project id: amount} of the company's current proposal (the latest period's
    approved or open revision), paid and held lines. Empty without one."""
    proposal = session.exec(
        select(Proposal)
        .where(
            Proposal.company_id == company_id,
            col(Proposal.state).in_([ProposalState.approved.value, *OPEN_STATES]),
        )
        .order_by(col(Proposal.period).desc(), col(Proposal.revision).desc())
        .limit(1)
    ).first()
    if proposal is None:
        return {}
    return dict(
        session.exec(
            select(ProposalLine.project_id, ProposalLine.amount_minor).where(
                ProposalLine.proposal_id == proposal.id,
                col(ProposalLine.kind).in_([LineKind.line.value, LineKind.held.value]),
            )
        ).all()
    )


@dataclass
class Diff:
    """This proposal against the last approved one: by project key."""

    previous: Proposal | None
    new: list[str] = field(default_factory=list)
    dropped: list[tuple[str, int]] = field(default_factory=list)  # (key, last amount)
    changed: list[tuple[str, int, int]] = field(default_factory=list)  # (key, before, after)
    unchanged: int = 0
    before: dict[str, int] = field(default_factory=dict)

    def change_of(self, key: str, amount: int) -> int | None:
        """The change of a line against last time (None: it is new)."""
        if key not in self.before:
            return None
        return amount - self.before[key]


def diff_against_previous(
    session: Session, proposal: Proposal, current: dict[str, int] | None = None
) -> Diff:
    previous = previous_approved(session, proposal.company_id, proposal.period)
    if previous is None:
        return Diff(None)
    before = paid_amounts(session, previous.id)
    after = current if current is not None else paid_amounts(session, proposal.id)
    diff = Diff(previous, before=before)
    for key in sorted(after):
        if key not in before:
            diff.new.append(key)
        elif before[key] != after[key]:
            diff.changed.append((key, before[key], after[key]))
        else:
            diff.unchanged += 1
    diff.dropped = [(key, before[key]) for key in sorted(before) if key not in after]
    diff.changed.sort(key=lambda item: (-abs(item[2] - item[1]), item[0]))
    return diff


@dataclass
class People:
    claimed_by: list[str] = field(default_factory=list)  # GitHub logins with an active claim
    maintainers: int = 0  # found in metadata
    channels: list[tuple[str, str | None]] = field(default_factory=list)  # (kind, url)


def people_of(session: Session, project_ids: Sequence[int]) -> dict[int, People]:
    """Claims, maintainer counts and funding channels for the given projects."""
    from service.projects.models import Maintainer

    found: dict[int, People] = defaultdict(People)
    ids = list(project_ids)
    for start in range(0, len(ids), INSERT_CHUNK):
        chunk = ids[start : start + INSERT_CHUNK]
        for pid, login in session.exec(
            select(ProjectClaim.project_id, User.login)
            .join(User, col(User.id) == ProjectClaim.user_id)
            .where(
                col(ProjectClaim.project_id).in_(chunk),
                ProjectClaim.status == ClaimStatus.active.value,
            )
            .order_by(col(User.login))
        ).all():
            found[pid].claimed_by.append(login)
        for pid, count in session.exec(
            select(Maintainer.project_id, func.count())
            .where(col(Maintainer.project_id).in_(chunk))
            .group_by(col(Maintainer.project_id))
        ).all():
            found[pid].maintainers = count
        for pid, kind, url in session.exec(
            select(FundingChannel.project_id, FundingChannel.kind, FundingChannel.url)
            .where(col(FundingChannel.project_id).in_(chunk))
            .order_by(col(FundingChannel.id))
        ).all():
            if pid is not None and (kind, url) not in found[pid].channels:
                found[pid].channels.append((kind, url))
    return found


def users_by_id(session: Session, ids: Iterable[int | None]) -> dict[int, User]:
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return {}
    return {u.id: u for u in session.exec(select(User).where(col(User.id).in_(wanted))).all()}


def summary_line(proposal: Proposal) -> str:
    currency = proposal.currency
    return (
        f"{format_amount(proposal.paid_minor, currency)} {currency} to pay, "
        f"{format_amount(proposal.held_minor, currency)} held, "
        f"{format_amount(proposal.remainder_minor, currency)} remainder"
    )


def companies_due(session: Session) -> list[int]:
    """Companies the monthly job generates for: a budget above zero."""
    return list(
        session.exec(
            select(Company.id).where(Company.monthly_budget_minor > 0).order_by(col(Company.id))
        ).all()
    )
