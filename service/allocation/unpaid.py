"""Who was not paid this month, why, and what would change it.

Every held or omitted line of a proposal becomes an entry with its reason, the next
step (most often: the maintainers have to claim the project) and, for a project whose
maintainers Tributary cannot pay yet, a ready-to-send invitation that points them at
their project page, with the contact points the metadata gives (the repository, its
FUNDING.yml, the registry accounts that publish its packages). Held lines also show the
reserve: what the company has set aside for the project so far, and since when.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from service.allocation.models import LineKind, Proposal, ProposalLine
from service.allocation.queries import INSERT_CHUNK
from service.money import format_amount
from service.projects.models import FundingChannel, Maintainer, Project

# The next step, by the code of the reason a project was not paid (None: nothing to do).
NEXT_STEPS: Mapping[str, str | None] = {
    "held": "Invite the maintainers to claim the project: the reserve is paid with the "
    "first proposal after the claim.",
    "hold_expired": "Invite the maintainers to claim the project: it is paid from the "
    "next proposal after the claim (the reserve was re-spread over the others).",
    "unclaimed_skipped": "Invite the maintainers to claim the project, or hold unclaimed "
    "projects' shares in the allocation policy.",
    "below_minimum": "Raise the budget or lower the minimum payout in the allocation policy.",
    "excluded": "Remove the exclusion on this proposal to pay it.",
    "override_zero": "Remove the override of 0 on this proposal to pay it.",
    "policy_excluded": "Change the exclusions of the allocation policy to pay it.",
    "invalid_input": "Check the project's depth and risk data; the line says what could not "
    "be read.",
    "first_party": None,
    "not_used": None,
}
INVITE = frozenset({"held", "hold_expired", "unclaimed_skipped"})
SHOWN_PER_REASON = 100  # omitted projects of one reason listed in full (the rest counted)


@dataclass
class Unpaid:
    project_id: int
    key: str
    code: str  # "held" or the omitted line's code
    reason: str
    amount_minor: int  # held this month (0 for omitted lines)
    products: int = 0  # the company's products that use it
    reserved_minor: int = 0  # the whole reserve, this month's held amount included
    months: int = 0  # months reserved, this one included
    since: str = ""
    contacts: list[str] = field(default_factory=list)

    @property
    def next_step(self) -> str | None:
        return NEXT_STEPS.get(self.code)

    @property
    def invite(self) -> bool:
        return self.code in INVITE


@dataclass
class NotPaid:
    held: list[Unpaid]
    omitted: dict[str, list[Unpaid]]  # by code, at most SHOWN_PER_REASON each
    omitted_counts: dict[str, int]

    @property
    def reserved_minor(self) -> int:
        return sum(entry.reserved_minor for entry in self.held)

    @property
    def invited(self) -> list[Unpaid]:
        """The entries whose maintainers get an invitation: held, or unclaimed."""
        omitted = (e for entries in self.omitted.values() for e in entries if e.invite)
        return [*self.held, *omitted]


def invitation(entry: Unpaid, *, company: str, currency: str, claim_url: str) -> str:
    """The message a company sends a project's maintainers (plain text, ready to send)."""
    products = entry.products
    used = "one of its products" if products == 1 else f"{products} of its products"
    lines = [
        f"Subject: {company} would like to sponsor {entry.key}",
        "",
        "Hello,",
        "",
        f"{company} uses {entry.key} in {used} and sets aside part of its monthly open "
        "source budget for the maintainers of the projects it depends on.",
    ]
    if entry.reserved_minor:
        months = "1 month" if entry.months == 1 else f"{entry.months} months"
        lines.append(
            f"{format_amount(entry.reserved_minor, currency)} {currency} is reserved for "
            f"this project so far ({months}, since {entry.since})."
        )
    lines += [
        "",
        "To receive it, sign in with your GitHub account and claim the project on its "
        "page (admin or maintain rights on the repository, or a FUNDING.yml naming you, "
        "prove it is yours):",
        "",
        claim_url,
        "",
        "Then say where you would like to be paid (GitHub Sponsors, Open Collective, "
        "or another channel) and how co-maintainers share; what is reserved is paid "
        "with the next monthly pledge.",
        "",
        "Thank you for your work,",
        company,
    ]
    return "\n".join(lines) + "\n"


def not_paid(session: Session, proposal: Proposal) -> NotPaid:
    """The proposal's held and omitted lines as entries, with reserves and contacts."""
    rows = session.exec(
        select(
            ProposalLine.project_id,
            ProposalLine.project_key,
            ProposalLine.kind,
            ProposalLine.omitted_code,
            ProposalLine.reason,
            ProposalLine.amount_minor,
            ProposalLine.products,
        )
        .where(
            ProposalLine.proposal_id == proposal.id,
            col(ProposalLine.kind).in_([LineKind.held.value, LineKind.omitted.value]),
        )
        .order_by(col(ProposalLine.project_key))
    ).all()
    kept = {r["key"]: r for r in (proposal.stats or {}).get("release", {}).get("kept", [])}
    held: list[Unpaid] = []
    omitted: dict[str, list[Unpaid]] = defaultdict(list)
    counts: dict[str, int] = defaultdict(int)
    for project_id, key, kind, code, reason, amount, products in rows:
        used = len(products or [])
        if kind == LineKind.held.value:
            before = kept.get(key, {})
            held.append(
                Unpaid(
                    project_id,
                    key,
                    "held",
                    reason,
                    amount,
                    used,
                    reserved_minor=amount + before.get("amount_minor", 0),
                    months=1 + before.get("months", 0),
                    since=before.get("since", proposal.period),
                )
            )
            continue
        code = code or "omitted"
        counts[code] += 1
        if len(omitted[code]) < SHOWN_PER_REASON:
            omitted[code].append(Unpaid(project_id, key, code, reason, 0, used))
    held.sort(key=lambda e: (-e.reserved_minor, e.key))
    found = NotPaid(held, dict(omitted), dict(counts))
    _add_contacts(session, found.invited)
    return found


def _add_contacts(session: Session, entries: Sequence[Unpaid]) -> None:
    """Where the maintainers can be reached: repository, FUNDING.yml, registry accounts."""
    by_id = {e.project_id: e for e in entries}
    ids = sorted(by_id)
    for start in range(0, len(ids), INSERT_CHUNK):
        chunk = ids[start : start + INSERT_CHUNK]
        for pid, url in session.exec(
            select(Project.id, Project.repository_url).where(col(Project.id).in_(chunk))
        ).all():
            by_id[pid].contacts.append(f"repository: {url}")
        for pid, kind, handle in session.exec(
            select(FundingChannel.project_id, FundingChannel.kind, FundingChannel.handle)
            .where(col(FundingChannel.project_id).in_(chunk))
            .where(FundingChannel.source == "FUNDING.yml")
            .order_by(col(FundingChannel.id))
        ).all():
            by_id[pid].contacts.append(f"FUNDING.yml: {kind.replace('_', ' ')} {handle}")
        for pid, source, login, name in session.exec(
            select(Maintainer.project_id, Maintainer.source, Maintainer.login, Maintainer.name)
            .where(col(Maintainer.project_id).in_(chunk))
            .order_by(col(Maintainer.source), col(Maintainer.login))
        ).all():
            who = login or name
            if who:
                by_id[pid].contacts.append(f"{source} maintainer: {who}")
