"""Allocation as the rest of Tributary uses it: policies, proposals, adjustments, review.

The engine (service.allocation.engine) is pure; this module feeds it from the database
and stores what it says. Functions that change state take the session and an Actor,
record their audit event and leave the commit to the caller, so a change, its audit event,
its pledges and its notices land together or not at all.

Semantics settled here:

- **Candidates** (`gather_inputs`): every project behind a package of a product's latest
  SBOM (`company_inventory`), with its shallowest depth per product; *first-party* when
  its owner is one of the company's linked GitHub organisations (case-insensitive, on
  the configured GitHub host); *claimed* when it has an active maintainer claim or a
  known funding channel; *risk* = the score of its latest risk snapshot for the company
  (None → the engine's neutral 50); *months_held* = how many consecutive approved
  proposals before this period, newest first, held it for being unclaimed.
- **Revisions**: generating a period that has an open (draft / in review) proposal
  returns that proposal unless asked to replace it; replacing creates revision n+1, marks
  the open one ``superseded`` and carries its active adjustments over. A period with an
  approved proposal is never generated again (refused with the reason). Rejected and
  superseded revisions stay as they are.
- **Recompute** after an adjustment re-runs the engine on the inputs stored with the
  proposal (its lines hold every candidate, paid, held or omitted), its policy and budget
  snapshot, and its active adjustments: what the reviewers see is what they adjust. A
  fresh "Preview now" reads the inventory, risk, claims and policy again.
- **Budget**: the company's monthly budget plus the remainder of the approved proposal of
  the month right before (DESIGN: "carried to next month"). Amounts held for unclaimed
  projects are reserved by the approved proposal that held them; paying reserves out
  later (or re-spreading them when a hold expires) needs the payments ledger and is not
  done here: each month splits that month's money.
- **Approval** (reviewers and owners): from draft or in review; with four eyes on, the
  last person who changed the proposal (generated it by hand, adjusted it) cannot
  approve it. One transaction: the state, the pledges, the audit events, the in-app
  notices and the queued e-mail / webhook tasks.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction
from typing import Any

from flask import has_app_context
from sqlalchemy import and_, delete, func, insert
from sqlmodel import Session, col, select

from service.accounts.models import User
from service.allocation.engine import AllocationError, Candidate, ProductUse, allocate
from service.allocation.engine import Proposal as EngineProposal
from service.allocation.models import (
    Adjustment,
    AdjustmentKind,
    AllocationPolicy,
    LineKind,
    Proposal,
    ProposalLine,
    ProposalState,
)
from service.allocation.policy import InputError, Policy, as_fraction
from service.audit.services import Actor, record
from service.companies.models import Company, LinkedOrg, Membership, Role
from service.core.clock import current_period, utcnow
from service.money import Money, MoneyError, format_amount, parse_amount
from service.projects.inventory import CompanyInventory, company_inventory
from service.projects.models import ClaimStatus, FundingChannel, Project, ProjectClaim

PERIOD_PATTERN = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
OPEN_STATES = (ProposalState.draft.value, ProposalState.in_review.value)
BREAKDOWN_TOP = 3
MAX_BOOST = Fraction(100)
INSERT_CHUNK = 1000


class ProposalError(ValueError):
    """A request about a proposal or policy that cannot be carried out; says why."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def check_period(period: str) -> str:
    period = (period or "").strip()
    if not PERIOD_PATTERN.match(period):
        raise ProposalError(f"{period!r} is not a period: expected YYYY-MM, e.g. 2026-12", "period")
    return period


def previous_period(period: str) -> str:
    year, month = (int(part) for part in check_period(period).split("-"))
    return f"{year - 1:04d}-12" if month == 1 else f"{year:04d}-{month - 1:02d}"


# Policy ------------------------------------------------------------------------------------


def policy_row(session: Session, company_id: int) -> AllocationPolicy | None:
    return session.get(AllocationPolicy, company_id)


def company_policy(session: Session, company: Company) -> Policy:
    """The company's policy (DESIGN's defaults until one is saved)."""
    row = policy_row(session, company.id)
    if row is None or not row.policy:
        return Policy()
    return Policy.from_dict(row.policy, company.currency)


def save_policy(
    session: Session,
    actor: Actor,
    company: Company,
    data: dict[str, Any],
    *,
    four_eyes: bool,
    notify_email: bool,
    webhook_url: str | None,
    webhook_secret: str | None,
    seal,
    allow_http: bool = False,
    allow_hosts: Iterable[str] = (),
) -> AllocationPolicy:
    """Validate and store the policy. ``webhook_secret`` None keeps the stored secret;
    ``webhook_url`` None or empty removes the webhook (and its secret). ``seal`` seals
    the secret (the app's SecretBox.seal). Raises ProposalError naming the field."""
    from service.notifications.delivery import webhook_url_problem

    try:
        policy = Policy.from_dict(data, company.currency)
    except InputError as exc:
        raise ProposalError(f"{exc.field}: {exc.message}", exc.field) from None
    row = policy_row(session, company.id) or AllocationPolicy(company_id=company.id)
    before = {
        "policy": dict(row.policy or {}),
        "four_eyes": row.four_eyes,
        "notify_email": row.notify_email,
        "webhook_url": row.webhook_url,
    }
    url = (webhook_url or "").strip() or None
    secret_changed = False
    if url is None:
        secret_changed = row.webhook_secret is not None
        row.webhook_url = None
        row.webhook_secret = None
    else:
        problem = webhook_url_problem(url, allow_http=allow_http, allow_hosts=allow_hosts)
        if problem:
            raise ProposalError(f"webhook_url: the URL {problem}", "webhook_url")
        if len(url) > 1000:
            raise ProposalError("webhook_url: at most 1000 characters", "webhook_url")
        if webhook_secret is not None and webhook_secret.strip():
            secret = webhook_secret.strip()
            if len(secret) < 16:
                raise ProposalError(
                    "webhook_secret: use at least 16 random characters", "webhook_secret"
                )
            row.webhook_secret = seal(secret)
            secret_changed = True
        elif row.webhook_secret is None:
            raise ProposalError(
                "webhook_secret: give a signing secret (at least 16 random characters); "
                "receivers check the X-Tributary-Signature header with it",
                "webhook_secret",
            )
        row.webhook_url = url
    row.policy = policy.to_dict(company.currency)
    row.four_eyes = bool(four_eyes)
    row.notify_email = bool(notify_email)
    row.updated_by_id = actor.user_id
    row.updated_at = utcnow()
    session.add(row)
    after = {
        "policy": row.policy,
        "four_eyes": row.four_eyes,
        "notify_email": row.notify_email,
        "webhook_url": row.webhook_url,
    }
    record(
        session,
        actor,
        "allocation.policy_changed",
        company_id=company.id,
        obj=row,
        before=before,
        after=after,
        webhook_secret_changed=secret_changed,
    )
    return row


# Candidates --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RiskInfo:
    score: float | None
    breakdown: list[list[Any]]  # [[signal, contribution], ...] largest first


@dataclass
class ProjectInput:
    """Everything the engine and the review page need about one candidate project."""

    project_id: int
    key: str
    owner: str
    products: list[dict[str, Any]]  # [{"name", "depth"}], shallowest first
    risk: float | None = None
    risk_breakdown: list[list[Any]] = field(default_factory=list)
    claimed: bool = False
    first_party: bool = False
    ecosystem: str | None = None
    months_held: int = 0


@dataclass
class Inputs:
    projects: list[ProjectInput]
    stats: dict[str, Any]


def _github_host() -> str:
    if has_app_context():
        from flask import current_app

        from service.projects.sources import github_web_host

        return github_web_host(current_app.extensions["tributary.settings"])
    return "github.com"


def latest_risks(session: Session, company_id: int) -> dict[int, RiskInfo]:
    """Each project's latest risk snapshot for the company: score and top contributions."""
    from service.risk.models import RiskSnapshot

    latest = (
        select(RiskSnapshot.project_id, func.max(RiskSnapshot.taken_on).label("taken_on"))
        .where(RiskSnapshot.company_id == company_id)
        .group_by(col(RiskSnapshot.project_id))
        .subquery()
    )
    rows = session.exec(
        select(RiskSnapshot.project_id, RiskSnapshot.score, RiskSnapshot.breakdown)
        .join(
            latest,
            and_(
                col(RiskSnapshot.project_id) == latest.c.project_id,
                col(RiskSnapshot.taken_on) == latest.c.taken_on,
            ),
        )
        .where(RiskSnapshot.company_id == company_id)
    ).all()
    risks = {}
    for project_id, score, breakdown in rows:
        parts = [
            [str(item.get("signal")), round(float(item.get("contribution") or 0), 2)]
            for item in breakdown or []
            if isinstance(item, dict) and item.get("contribution")
        ]
        parts.sort(key=lambda part: (-part[1], part[0]))
        risks[project_id] = RiskInfo(score, parts[:BREAKDOWN_TOP])
    return risks


def latest_risk_scores(session: Session, company_id: int) -> dict[int, float | None]:
    """{project id: latest score} (None: scored without data)."""
    return {pid: info.score for pid, info in latest_risks(session, company_id).items()}


def claimed_project_ids(session: Session, project_ids: Sequence[int]) -> set[int]:
    """Projects someone can be paid through: an active claim or a known funding channel."""
    claimed: set[int] = set()
    for start in range(0, len(project_ids), INSERT_CHUNK):
        chunk = list(project_ids[start : start + INSERT_CHUNK])
        claimed.update(
            session.exec(
                select(ProjectClaim.project_id).where(
                    col(ProjectClaim.project_id).in_(chunk),
                    ProjectClaim.status == ClaimStatus.active.value,
                )
            ).all()
        )
        claimed.update(
            pid
            for pid in session.exec(
                select(FundingChannel.project_id)
                .where(col(FundingChannel.project_id).in_(chunk))
                .distinct()
            ).all()
            if pid is not None
        )
    return claimed


def months_held(session: Session, company_id: int, period: str, limit: int) -> dict[int, int]:
    """{project id: consecutive approved proposals before `period` that held it}."""
    approved = session.exec(
        select(Proposal.id)
        .where(
            Proposal.company_id == company_id,
            Proposal.state == ProposalState.approved.value,
            col(Proposal.period) < period,
        )
        .order_by(col(Proposal.period).desc())
        .limit(max(1, limit))
    ).all()
    if not approved:
        return {}
    held_in: dict[int, set[int]] = defaultdict(set)
    for proposal_id, project_id in session.exec(
        select(ProposalLine.proposal_id, ProposalLine.project_id).where(
            col(ProposalLine.proposal_id).in_(approved),
            ProposalLine.kind == LineKind.held.value,
        )
    ).all():
        held_in[proposal_id].add(project_id)
    counts: dict[int, int] = {}
    for project_id in set().union(*held_in.values()) if held_in else set():
        run = 0
        for proposal_id in approved:
            if project_id not in held_in.get(proposal_id, ()):
                break
            run += 1
        counts[project_id] = run
    return counts


def _ecosystem(ecosystems: set[str], policy: Policy) -> str | None:
    """One ecosystem for the engine: excluded only when every package of it is."""
    if not ecosystems:
        return None
    ordered = sorted(ecosystems)
    allowed = [eco for eco in ordered if eco.casefold() not in policy.exclude_ecosystems]
    return allowed[0] if allowed else ordered[0]


def gather_inputs(
    session: Session,
    company: Company,
    policy: Policy,
    period: str,
    inventory: CompanyInventory | None = None,
) -> Inputs:
    """Read every candidate project of the company from the database."""
    inventory = inventory or company_inventory(session, company.id)
    ids = sorted(inventory.projects)
    owners: dict[int, tuple[str, str]] = {}
    for start in range(0, len(ids), INSERT_CHUNK):
        chunk = ids[start : start + INSERT_CHUNK]
        owners.update(
            (pid, (host, owner))
            for pid, host, owner in session.exec(
                select(Project.id, Project.host, Project.owner).where(col(Project.id).in_(chunk))
            ).all()
        )
    orgs = {
        login.casefold()
        for login in session.exec(
            select(LinkedOrg.org_login).where(LinkedOrg.company_id == company.id)
        ).all()
    }
    github_host = _github_host()
    claimed = claimed_project_ids(session, ids)
    risks = latest_risks(session, company.id)
    held = months_held(session, company.id, period, policy.hold_months + 1)
    projects = []
    for pid in ids:
        use = inventory.projects[pid]
        host, owner = owners.get(pid, ("", ""))
        products = sorted(
            use.depths.items(), key=lambda item: (item[1] is None, item[1] or 0, item[0])
        )
        risk = risks.get(pid)
        projects.append(
            ProjectInput(
                project_id=pid,
                key=use.key,
                owner=owner,
                products=[{"name": name, "depth": depth} for name, depth in products],
                risk=risk.score if risk else None,
                risk_breakdown=risk.breakdown if risk else [],
                claimed=pid in claimed,
                first_party=host == github_host and owner.casefold() in orgs,
                ecosystem=_ecosystem(use.ecosystems, policy),
                months_held=held.get(pid, 0),
            )
        )
    stats = {
        "products": len(inventory.products),
        "packages": inventory.packages_total,
        "unresolved_packages": inventory.packages_unresolved,
        "projects": len(ids),
    }
    return Inputs(projects, stats)


def to_candidate(item: ProjectInput, adjustments: Iterable[Adjustment] = ()) -> Candidate:
    values: dict[str, Any] = {}
    for adjustment in adjustments:
        kind = adjustment.kind
        if kind == AdjustmentKind.boost:
            values["boost"] = as_fraction(adjustment.value, "boost")
        elif kind == AdjustmentKind.exclude:
            values["excluded"] = True
        elif kind == AdjustmentKind.override:
            values["override"] = int(adjustment.value)
            values["override_note"] = adjustment.note
        elif kind == AdjustmentKind.pin_minimum:
            values["pin_minimum"] = int(adjustment.value)
    risk = item.risk
    return Candidate(
        key=item.key,
        uses=tuple(ProductUse(p["name"], p["depth"]) for p in item.products),
        risk=None if risk is None else min(100.0, max(0.0, float(risk))),
        claimed=item.claimed,
        first_party=item.first_party,
        owner=item.owner or None,
        ecosystem=item.ecosystem,
        months_held=item.months_held,
        **values,
    )


def build_candidates(
    session: Session, company: Company, period: str | None = None
) -> list[Candidate]:
    """The engine's candidates for the company now (no adjustments)."""
    period = check_period(period or current_period())
    policy = company_policy(session, company)
    return [to_candidate(item) for item in gather_inputs(session, company, policy, period).projects]


# Generating and storing --------------------------------------------------------------------


def proposals_of_period(session: Session, company_id: int, period: str) -> list[Proposal]:
    return list(
        session.exec(
            select(Proposal)
            .where(Proposal.company_id == company_id, Proposal.period == period)
            .order_by(col(Proposal.revision).desc())
        ).all()
    )


def _lock_company(session: Session, company_id: int) -> None:
    """Serialize generation per company on PostgreSQL (SQLite serializes writers)."""
    if session.get_bind().dialect.name == "postgresql":
        session.exec(select(Company.id).where(Company.id == company_id).with_for_update()).all()


def _adjustments_by_project(adjustments: Iterable[Adjustment]) -> dict[int, list[Adjustment]]:
    grouped: dict[int, list[Adjustment]] = defaultdict(list)
    for adjustment in adjustments:
        if adjustment.removed_at is None:
            grouped[adjustment.project_id].append(adjustment)
    return grouped


def _run_engine(
    inputs: Sequence[ProjectInput],
    budget: Money,
    policy: Policy,
    adjustments: Iterable[Adjustment],
) -> EngineProposal:
    grouped = _adjustments_by_project(adjustments)
    candidates = [to_candidate(item, grouped.get(item.project_id, ())) for item in inputs]
    try:
        return allocate(candidates, budget, policy)
    except AllocationError as exc:
        raise ProposalError(exc.message, exc.field) from None


def _line_rows(
    proposal_id: int, inputs: Sequence[ProjectInput], result: EngineProposal
) -> list[dict[str, Any]]:
    by_key = {item.key: item for item in inputs}
    rows = []

    def base(item: ProjectInput) -> dict[str, Any]:
        return {
            "proposal_id": proposal_id,
            "project_id": item.project_id,
            "project_key": item.key,
            "risk": item.risk,
            "risk_breakdown": item.risk_breakdown,
            "products": item.products,
            "claimed": item.claimed,
            "first_party": item.first_party,
            "ecosystem": item.ecosystem,
            "months_held": item.months_held,
            "omitted_code": None,
        }

    for line in result.lines:
        flags = [
            name for name in ("capped", "boosted", "overridden", "pinned") if getattr(line, name)
        ]
        rows.append(
            base(by_key[line.project])
            | {
                "kind": LineKind.line.value,
                "amount_minor": line.amount,
                "share": line.share,
                "weight": line.weight,
                "reason": line.reason,
                "flags": flags,
            }
        )
    for entry in result.held:
        rows.append(
            base(by_key[entry.project])
            | {
                "kind": LineKind.held.value,
                "amount_minor": entry.amount,
                "share": entry.share,
                "weight": entry.weight,
                "reason": entry.reason,
                "flags": [],
            }
        )
    for omitted in result.omitted:
        rows.append(
            base(by_key[omitted.project])
            | {
                "kind": LineKind.omitted.value,
                "amount_minor": 0,
                "share": 0.0,
                "weight": 0.0,
                "reason": omitted.reason,
                "flags": [],
                "omitted_code": omitted.code,
            }
        )
    return rows


def _store(
    session: Session, proposal: Proposal, inputs: Sequence[ProjectInput], result: EngineProposal
) -> None:
    session.exec(delete(ProposalLine).where(col(ProposalLine.proposal_id) == proposal.id))
    rows = _line_rows(proposal.id, inputs, result)
    for start in range(0, len(rows), INSERT_CHUNK):
        session.exec(insert(ProposalLine), params=rows[start : start + INSERT_CHUNK])
    proposal.paid_minor = result.total_lines
    proposal.held_minor = result.total_held
    proposal.remainder_minor = result.remainder
    proposal.cap_minor = result.cap
    proposal.cap_relaxed = result.cap_relaxed
    proposal.minimum_minor = result.minimum
    proposal.granularity = result.granularity
    proposal.computed_at = utcnow()
    session.add(proposal)


def _stored_inputs(session: Session, proposal: Proposal) -> list[ProjectInput]:
    rows = session.exec(select(ProposalLine).where(ProposalLine.proposal_id == proposal.id)).all()
    return [
        ProjectInput(
            project_id=row.project_id,
            key=row.project_key,
            owner=_owner_of(row.project_key),
            products=list(row.products or []),
            risk=row.risk,
            risk_breakdown=list(row.risk_breakdown or []),
            claimed=row.claimed,
            first_party=row.first_party,
            ecosystem=row.ecosystem,
            months_held=row.months_held,
        )
        for row in rows
    ]


def _owner_of(key: str) -> str:
    parts = key.split("/")
    return parts[1] if len(parts) >= 3 else ""


def _adjustments_of(session: Session, proposal_id: int) -> list[Adjustment]:
    return list(
        session.exec(
            select(Adjustment)
            .where(Adjustment.proposal_id == proposal_id)
            .order_by(col(Adjustment.id))
        ).all()
    )


def carried_remainder(session: Session, company: Company, period: str) -> int:
    """The remainder of last month's approved proposal, carried into this month's budget
    (only from the month right before, in the same currency)."""
    previous = previous_approved(session, company.id, period)
    if (
        previous is None
        or previous.period != previous_period(period)
        or previous.currency != company.currency
    ):
        return 0
    return previous.remainder_minor


def generate_proposal(
    session: Session,
    actor: Actor,
    company: Company,
    period: str | None = None,
    now: datetime | None = None,
    *,
    replace: bool = False,
    submit: bool = False,
) -> Proposal:
    """This period's proposal: the open one, or a new revision (see the module docstring).

    Idempotent without ``replace``: an open proposal for the period is returned as it is.
    With ``replace`` a new revision supersedes the open one. ``submit`` puts a new
    proposal straight into review (what the scheduler does) and announces it.
    """
    now = now or utcnow()
    period = check_period(period or current_period(now))
    _lock_company(session, company.id)
    existing = proposals_of_period(session, company.id, period)
    approved = next((p for p in existing if p.state == ProposalState.approved.value), None)
    if approved is not None:
        when = approved.decided_at.strftime("%Y-%m-%d") if approved.decided_at else "earlier"
        raise ProposalError(
            f"The proposal for {period} was approved on {when}; an approved proposal is never "
            "replaced. Budget, policy or inventory changes apply from the next period's "
            "proposal.",
            "period",
        )
    current = next((p for p in existing if p.state in OPEN_STATES), None)
    if current is not None and not replace:
        return current
    policy = company_policy(session, company)
    carry = carried_remainder(session, company, period)
    budget = Money(company.monthly_budget_minor + carry, company.currency)
    inputs = gather_inputs(session, company, policy, period)
    inputs.stats["monthly_budget_minor"] = company.monthly_budget_minor
    inputs.stats["carried_minor"] = carry
    kept = (
        [a for a in _adjustments_of(session, current.id) if a.removed_at is None] if current else []
    )
    known = {item.project_id for item in inputs.projects}
    kept = [a for a in kept if a.project_id in known]
    result = _run_engine(inputs.projects, budget, policy, kept)
    label = actor.label or ("user" if actor.user_id else "token")
    proposal = Proposal(
        company_id=company.id,
        period=period,
        revision=(existing[0].revision + 1) if existing else 1,
        state=ProposalState.draft.value,
        budget_minor=budget.minor,
        currency=budget.currency,
        policy=policy.to_dict(budget.currency),
        stats=inputs.stats,
        generated_by=label[:80],
        generated_by_id=actor.user_id,
        created_at=now,
        last_edited_by_id=actor.user_id,
    )
    session.add(proposal)
    session.flush()
    _store(session, proposal, inputs.projects, result)
    if current is not None:
        current.state = ProposalState.superseded.value
        session.add(current)
        for adjustment in kept:
            session.add(
                Adjustment(
                    proposal_id=proposal.id,
                    project_id=adjustment.project_id,
                    kind=adjustment.kind,
                    value=adjustment.value,
                    note=adjustment.note,
                    user_id=adjustment.user_id,
                    created_at=adjustment.created_at,
                )
            )
    record(
        session,
        actor,
        "proposal.generated",
        company_id=company.id,
        obj=proposal,
        period=period,
        revision=proposal.revision,
        supersedes=current.id if current else None,
        budget_minor=proposal.budget_minor,
        paid_minor=proposal.paid_minor,
        held_minor=proposal.held_minor,
        remainder_minor=proposal.remainder_minor,
        lines=len(result.lines),
        adjustments_carried=len(kept),
    )
    if submit:
        submit_for_review(session, actor, proposal, now=now)
    return proposal


def recompute(session: Session, proposal: Proposal) -> EngineProposal:
    """Re-run the engine on the proposal's stored inputs, policy, budget and adjustments."""
    inputs = _stored_inputs(session, proposal)
    policy = Policy.from_dict(proposal.policy, proposal.currency)
    budget = Money(proposal.budget_minor, proposal.currency)
    result = _run_engine(inputs, budget, policy, _adjustments_of(session, proposal.id))
    _store(session, proposal, inputs, result)
    return result


# Adjustments -------------------------------------------------------------------------------


def _require_open(proposal: Proposal, doing: str) -> None:
    if proposal.state not in OPEN_STATES:
        raise ProposalError(
            f"This proposal is {proposal.state.replace('_', ' ')}; only a draft or a proposal "
            f"in review can be {doing}."
        )


def _adjustment_value(proposal: Proposal, kind: str, value: str | None) -> str:
    text = (value or "").strip()
    if kind == AdjustmentKind.exclude:
        return ""
    if kind == AdjustmentKind.boost:
        try:
            factor = as_fraction(text, "boost", "a multiplier such as 1.5")
        except InputError as exc:
            raise ProposalError(f"boost: {exc.message}", "value") from None
        if not 0 < factor <= MAX_BOOST:
            raise ProposalError(
                f"boost: expected a multiplier > 0 and at most {MAX_BOOST}, got {text}", "value"
            )
        return text
    try:
        amount = parse_amount(text, proposal.currency)
    except MoneyError as exc:
        raise ProposalError(f"{kind.replace('_', ' ')}: {exc}", "value") from None
    if kind == AdjustmentKind.pin_minimum and amount <= 0:
        raise ProposalError("pin minimum: expected an amount > 0", "value")
    return str(amount)


def adjust(
    session: Session,
    actor: Actor,
    proposal: Proposal,
    project_id: int,
    kind: str,
    value: str | None = None,
    note: str | None = None,
    now: datetime | None = None,
) -> Adjustment:
    """Add (or replace) an OSPO adjustment and recompute the proposal at once."""
    _require_open(proposal, "adjusted")
    try:
        kind = AdjustmentKind(kind).value
    except ValueError:
        raise ProposalError(
            f"Unknown adjustment {kind!r}: use boost, exclude, override or pin_minimum.", "kind"
        ) from None
    line = session.exec(
        select(ProposalLine).where(
            ProposalLine.proposal_id == proposal.id, ProposalLine.project_id == project_id
        )
    ).first()
    if line is None:
        raise ProposalError("That project is not part of this proposal.", "project_id")
    note = (note or "").strip() or None
    if kind == AdjustmentKind.override and not note:
        raise ProposalError("Say why the amount is overridden (the note is kept).", "note")
    stored_value = _adjustment_value(proposal, kind, value)
    now = now or utcnow()
    for previous in _adjustments_of(session, proposal.id):
        if previous.project_id == project_id and previous.kind == kind and not previous.removed_at:
            previous.removed_at = now
            previous.removed_by_id = actor.user_id
            session.add(previous)
    adjustment = Adjustment(
        proposal_id=proposal.id,
        project_id=project_id,
        kind=kind,
        value=stored_value,
        note=note[:500] if note else None,
        user_id=actor.user_id,
        created_at=now,
    )
    session.add(adjustment)
    session.flush()
    before = line.amount_minor
    recompute(session, proposal)
    proposal.last_edited_by_id = actor.user_id
    session.add(proposal)
    record(
        session,
        actor,
        "proposal.adjusted",
        company_id=proposal.company_id,
        obj=proposal,
        period=proposal.period,
        project=line.project_key,
        kind=kind,
        value=stored_value,
        note=adjustment.note,
        amount_before=before,
        amount_after=amount_of(session, proposal.id, project_id),
    )
    return adjustment


def remove_adjustment(
    session: Session,
    actor: Actor,
    proposal: Proposal,
    adjustment_id: int,
    now: datetime | None = None,
) -> Adjustment:
    _require_open(proposal, "adjusted")
    adjustment = session.get(Adjustment, adjustment_id)
    if adjustment is None or adjustment.proposal_id != proposal.id or adjustment.removed_at:
        raise ProposalError("No such adjustment on this proposal.")
    adjustment.removed_at = now or utcnow()
    adjustment.removed_by_id = actor.user_id
    session.add(adjustment)
    session.flush()
    recompute(session, proposal)
    proposal.last_edited_by_id = actor.user_id
    session.add(proposal)
    project = session.get(Project, adjustment.project_id)
    record(
        session,
        actor,
        "proposal.adjustment_removed",
        company_id=proposal.company_id,
        obj=proposal,
        period=proposal.period,
        project=project.key if project else adjustment.project_id,
        kind=adjustment.kind,
    )
    return adjustment


def amount_of(session: Session, proposal_id: int, project_id: int) -> int:
    row = session.exec(
        select(ProposalLine.amount_minor).where(
            ProposalLine.proposal_id == proposal_id, ProposalLine.project_id == project_id
        )
    ).first()
    return row or 0


# Review: submit, approve, reject -----------------------------------------------------------


def role_of(session: Session, company_id: int, user_id: int | None) -> Role | None:
    if user_id is None:
        return None
    membership = session.exec(
        select(Membership).where(Membership.company_id == company_id, Membership.user_id == user_id)
    ).first()
    return Role(membership.role) if membership else None


def _require_reviewer(session: Session, actor: Actor, proposal: Proposal, doing: str) -> None:
    role = role_of(session, proposal.company_id, actor.user_id)
    if role is None or not role.at_least(Role.reviewer):
        raise PermissionError(f"Only reviewers and owners can {doing} proposals.")


def submit_for_review(
    session: Session, actor: Actor, proposal: Proposal, now: datetime | None = None
) -> Proposal:
    """Draft → in review; reviewers and owners are told it is ready."""
    now = now or utcnow()
    if proposal.state != ProposalState.draft.value:
        raise ProposalError(
            f"Only a draft can be submitted for review; this one is "
            f"{proposal.state.replace('_', ' ')}."
        )
    proposal.state = ProposalState.in_review.value
    proposal.submitted_at = now
    proposal.submitted_by_id = actor.user_id
    session.add(proposal)
    record(
        session,
        actor,
        "proposal.submitted",
        company_id=proposal.company_id,
        obj=proposal,
        period=proposal.period,
        revision=proposal.revision,
    )
    from service.allocation.notices import announce

    announce(session, proposal, "proposal.ready", actor=actor, now=now)
    return proposal


def approve(
    session: Session,
    actor: Actor,
    proposal: Proposal,
    comment: str | None = None,
    now: datetime | None = None,
) -> Proposal:
    """Approve: pledges follow it, reviewers are told, in the caller's one transaction."""
    from service.allocation.notices import announce
    from service.pledges.services import apply_approval

    now = now or utcnow()
    _require_reviewer(session, actor, proposal, "approve")
    _require_open(proposal, "approved")
    policy = policy_row(session, proposal.company_id)
    if policy is not None and policy.four_eyes and proposal.last_edited_by_id == actor.user_id:
        raise ProposalError(
            "Four-eyes approval is on: you made the last change to this proposal, so another "
            "reviewer or owner has to approve it."
        )
    comment = (comment or "").strip() or None
    proposal.state = ProposalState.approved.value
    proposal.decided_by_id = actor.user_id
    proposal.decided_at = now
    proposal.decision_comment = comment[:2000] if comment else None
    session.add(proposal)
    paid = dict(
        session.exec(
            select(ProposalLine.project_id, ProposalLine.amount_minor).where(
                ProposalLine.proposal_id == proposal.id,
                ProposalLine.kind == LineKind.line.value,
            )
        ).all()
    )
    change = apply_approval(
        session,
        actor,
        company_id=proposal.company_id,
        proposal_id=proposal.id,
        period=proposal.period,
        currency=proposal.currency,
        amounts=paid,
        now=now,
    )
    record(
        session,
        actor,
        "proposal.approved",
        company_id=proposal.company_id,
        obj=proposal,
        period=proposal.period,
        revision=proposal.revision,
        paid_minor=proposal.paid_minor,
        held_minor=proposal.held_minor,
        remainder_minor=proposal.remainder_minor,
        comment=proposal.decision_comment,
        pledges={
            "created": change.created,
            "updated": change.updated,
            "unchanged": change.unchanged,
            "ended": change.ended,
        },
    )
    announce(session, proposal, "proposal.approved", actor=actor, now=now)
    return proposal


def reject(
    session: Session,
    actor: Actor,
    proposal: Proposal,
    comment: str | None,
    now: datetime | None = None,
) -> Proposal:
    now = now or utcnow()
    _require_reviewer(session, actor, proposal, "reject")
    _require_open(proposal, "rejected")
    comment = (comment or "").strip()
    if not comment:
        raise ProposalError("Say why the proposal is rejected (the comment is kept).", "comment")
    proposal.state = ProposalState.rejected.value
    proposal.decided_by_id = actor.user_id
    proposal.decided_at = now
    proposal.decision_comment = comment[:2000]
    session.add(proposal)
    record(
        session,
        actor,
        "proposal.rejected",
        company_id=proposal.company_id,
        obj=proposal,
        period=proposal.period,
        revision=proposal.revision,
        comment=proposal.decision_comment,
    )
    return proposal


# Reading -----------------------------------------------------------------------------------


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
    for wanted in (ProposalState.approved.value, *OPEN_STATES):
        found = next((p for p in revisions if p.state == wanted), None)
        if found is not None:
            return found
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
