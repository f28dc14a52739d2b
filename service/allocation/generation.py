"""Generating a period's proposal with the pure engine, storing it, recomputing it.

The engine (service.allocation.engine) is pure; this module feeds it from the database
and stores what it says. Functions that change state take the session and an Actor,
record their audit event and leave the commit to the caller.

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
  the month right before (DESIGN: "carried to next month"), plus the reserves released
  this month. Amounts held for unclaimed projects are reserved by the approved proposals
  that held them; a reserve is caught up (a ``catch_up`` line of its own, for a project
  that can now be paid) or re-spread over the month's split (the hold ran out, the
  project was excluded or is no longer used): service.allocation.engine.reserves.
  ``stats["released_minor"]`` is the part of the budget that came from reserves.
- **Bad input** (a depth or a risk the engine cannot take) costs its own line only: the
  project is listed as omitted (``invalid_input``) with the reason, and the budget is
  split over the others.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from flask import has_app_context
from sqlalchemy import delete, insert
from sqlmodel import Session, col, select

from service.allocation.engine import AllocationError, Candidate, Omitted, allocate
from service.allocation.engine import Proposal as EngineProposal
from service.allocation.engine.reserves import Release, Reserve, catch_up_reason, release
from service.allocation.errors import ProposalError
from service.allocation.infrastructure.split import InfrastructurePlan
from service.allocation.infrastructure.stewards import (
    plan_for,
    registry_table,
    steward_project_ids,
)
from service.allocation.inputs import Inputs, ProjectInput, adjusted, gather_inputs, to_candidate
from service.allocation.models import (
    OPEN_STATES,
    Adjustment,
    LineKind,
    Proposal,
    ProposalLine,
    ProposalState,
)
from service.allocation.periods import check_period, previous_period
from service.allocation.policy import Policy
from service.allocation.policy_store import company_policy, policy_row
from service.allocation.queries import (
    INSERT_CHUNK,
    adjustments_of,
    previous_approved,
    proposals_of_period,
)
from service.allocation.review import submit_for_review
from service.audit.services import Actor, record
from service.companies.models import Company
from service.core.clock import current_period, utcnow
from service.core.services import get_settings
from service.money import Money, format_amount
from service.projects.models import is_infrastructure

# Code of an omitted line whose input the engine could not take.
INVALID_INPUT = "invalid_input"


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


@dataclass(frozen=True)
class Outcome:
    """The engine's split of the month's money, and what became of the reserves."""

    split: EngineProposal
    released: Release

    @property
    def paid(self) -> int:
        return self.split.total_lines + self.released.caught_up_total


def _run_engine(
    inputs: Sequence[ProjectInput],
    budget: Money,
    policy: Policy,
    adjustments: Iterable[Adjustment],
    plan: InfrastructurePlan | None = None,
    products_total: int | None = None,
    reserves: Sequence[Reserve] = (),
) -> Outcome:
    """The split: registry stewards first (their part of the budget), then the projects,
    with the re-spread reserves added to their part.

    What the stewards do not take (the part standing for ecosystems whose registry takes
    no contributions, a share under the minimum, rounding) stays with the projects.
    """
    grouped = _adjustments_by_project(adjustments)
    stewards = {item.key: item for item in inputs if is_infrastructure(item.key)}
    candidates: list[Candidate] = []
    refused: list[Omitted] = []
    for item in inputs:
        if is_infrastructure(item.key):
            continue
        # One bad input line costs that line, never the proposal: it is shown with the
        # reason and the budget is split over the others.
        try:
            candidates.append(to_candidate(item, grouped.get(item.project_id, ())))
        except AllocationError as exc:
            refused.append(Omitted(item.key, INVALID_INPUT, f"not computed: {exc.message}"))
    released = release(reserves, {c.key: c for c in candidates}, policy)
    try:
        infrastructure = None
        if plan is not None and plan.payable and stewards:
            steward_candidates = [
                replace(c, **adjusted(grouped.get(stewards[c.key].project_id, ())))
                for c in plan.candidates()
                if c.key in stewards
            ]
            # An OSPO override on a steward may ask for more than its share: the extra
            # comes out of the projects' part, never beyond the whole budget.
            overrides = sum(c.override or 0 for c in steward_candidates)
            infrastructure = allocate(
                steward_candidates,
                Money(min(max(plan.payable, overrides), budget.minor), budget.currency),
                replace(policy, cap=policy.infrastructure_cap),
                products_total,
            )
            budget = Money(budget.minor - infrastructure.total_lines, budget.currency)
        budget = Money(budget.minor + released.respread_total, budget.currency)
        projects = allocate(candidates, budget, policy, products_total)
    except AllocationError as exc:
        raise ProposalError(exc.message, exc.field) from None
    if refused:
        projects = replace(projects, omitted=(*projects.omitted, *refused))
    split = projects if infrastructure is None else _joined(projects, infrastructure)
    return Outcome(split, released)


def _joined(projects: EngineProposal, infrastructure: EngineProposal) -> EngineProposal:
    """One proposal: the stewards' lines beside the projects' (Σ still == the budget)."""
    return replace(
        projects,
        budget=projects.budget + infrastructure.total_lines,
        lines=tuple(
            sorted(
                (*projects.lines, *infrastructure.lines),
                key=lambda line: (-line.amount, line.project),
            )
        ),
        omitted=tuple(
            sorted((*projects.omitted, *infrastructure.omitted), key=lambda o: o.project)
        ),
    )


def _infrastructure_inputs(
    session: Session, company: Company, policy: Policy, budget: Money
) -> tuple[InfrastructurePlan | None, list[ProjectInput]]:
    """The plan for the policy's infrastructure share, and its stewards as inputs."""
    if not policy.infrastructure_part(budget.minor):
        return None, []
    table = registry_table(get_settings().infrastructure_table if has_app_context() else None)
    plan = plan_for(session, company.id, table, policy, budget.minor)
    ids = steward_project_ids(session, plan, table)
    stewards = [
        ProjectInput(
            project_id=ids[candidate.key],
            key=candidate.key,
            owner=candidate.owner_name,
            products=[],
            claimed=True,
            ecosystem=candidate.ecosystem,
        )
        for candidate in plan.candidates()
        if candidate.key in ids
    ]
    return plan, stewards


def _stored_plan(proposal: Proposal) -> InfrastructurePlan | None:
    data = (proposal.stats or {}).get("infrastructure")
    return InfrastructurePlan.from_dict(data) if data else None


def _line_rows(
    proposal_id: int, inputs: Sequence[ProjectInput], outcome: Outcome, currency: str
) -> list[dict[str, Any]]:
    by_key = {item.key: item for item in inputs}
    return [
        _input_fields(proposal_id, by_key[key]) | fields
        for key, fields in _line_fields(outcome, currency)
    ]


def _input_fields(proposal_id: int, item: ProjectInput) -> dict[str, Any]:
    """What every line of a project keeps of its inputs."""
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


def _line_fields(outcome: Outcome, currency: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(project key, what its line says) of every line: paid, held, caught up, omitted."""
    result = outcome.split
    for line in result.lines:
        flags = [
            name for name in ("capped", "boosted", "overridden", "pinned") if getattr(line, name)
        ]
        if is_infrastructure(line.project):
            flags.insert(0, "infrastructure")
        yield (
            line.project,
            {
                "kind": LineKind.line.value,
                "amount_minor": line.amount,
                "share": line.share,
                "weight": line.weight,
                "reason": line.reason,
                "flags": flags,
            },
        )
    for entry in result.held:
        yield (
            entry.project,
            {
                "kind": LineKind.held.value,
                "amount_minor": entry.amount,
                "share": entry.share,
                "weight": entry.weight,
                "reason": entry.reason,
                "flags": [],
            },
        )
    for reserve in outcome.released.caught_up:
        amount = f"{format_amount(reserve.amount, currency)} {currency}"
        yield (
            reserve.key,
            {
                "kind": LineKind.catch_up.value,
                "amount_minor": reserve.amount,
                "share": 0.0,
                "weight": 0.0,
                "reason": catch_up_reason(reserve, amount),
                "flags": ["catch_up"],
            },
        )
    for omitted in result.omitted:
        yield (
            omitted.project,
            {
                "kind": LineKind.omitted.value,
                "amount_minor": 0,
                "share": 0.0,
                "weight": 0.0,
                "reason": omitted.reason,
                "flags": [],
                "omitted_code": omitted.code,
            },
        )


def _store(
    session: Session,
    proposal: Proposal,
    base_budget: Money,
    inputs: Sequence[ProjectInput],
    outcome: Outcome,
) -> None:
    session.exec(delete(ProposalLine).where(col(ProposalLine.proposal_id) == proposal.id))
    rows = _line_rows(proposal.id, inputs, outcome, proposal.currency)
    for start in range(0, len(rows), INSERT_CHUNK):
        session.exec(insert(ProposalLine), params=rows[start : start + INSERT_CHUNK])
    result, released = outcome.split, outcome.released
    # The released reserves are part of this month's money: Σ lines + held + remainder
    # stays equal to the budget.
    proposal.budget_minor = base_budget.minor + released.released_total
    proposal.stats = {
        **(proposal.stats or {}),
        "released_minor": released.released_total,
        "release": released.to_dict(),
    }
    proposal.paid_minor = outcome.paid
    proposal.held_minor = result.total_held
    proposal.remainder_minor = result.remainder
    proposal.cap_minor = result.cap
    proposal.cap_relaxed = result.cap_relaxed
    proposal.minimum_minor = result.minimum
    proposal.granularity = result.granularity
    proposal.computed_at = utcnow()
    session.add(proposal)


def _stored_inputs(session: Session, proposal: Proposal) -> list[ProjectInput]:
    rows = session.exec(
        select(ProposalLine).where(
            ProposalLine.proposal_id == proposal.id,
            ProposalLine.kind != LineKind.catch_up.value,  # the project's own row holds its input
        )
    ).all()
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


def _refuse_if_approved(existing: Sequence[Proposal], period: str) -> None:
    approved = next((p for p in existing if p.state == ProposalState.approved.value), None)
    if approved is not None:
        when = approved.decided_at.strftime("%Y-%m-%d") if approved.decided_at else "earlier"
        raise ProposalError(
            f"The proposal for {period} was approved on {when}; an approved proposal is never "
            "replaced. Budget, policy or inventory changes apply from the next period's "
            "proposal.",
            "period",
        )


def _proposal_inputs(
    session: Session, company: Company, policy: Policy, period: str, budget: Money, carry: int
) -> tuple[Inputs, InfrastructurePlan | None]:
    """The candidates and their stats, with the infrastructure's stewards when the policy
    sets a share aside for them."""
    inputs = gather_inputs(session, company, policy, period)
    inputs.stats["monthly_budget_minor"] = company.monthly_budget_minor
    inputs.stats["carried_minor"] = carry
    plan, stewards = _infrastructure_inputs(session, company, policy, budget)
    if plan is not None:
        inputs.stats["infrastructure"] = plan.to_dict()
        inputs.projects.extend(stewards)
    return inputs, plan


def _kept_adjustments(
    session: Session, current: Proposal | None, projects: Sequence[ProjectInput]
) -> list[Adjustment]:
    """The open revision's adjustments that carry over: not removed, and of a project
    that is still a candidate."""
    if current is None:
        return []
    known = {item.project_id for item in projects}
    return [
        a
        for a in adjustments_of(session, current.id)
        if a.removed_at is None and a.project_id in known
    ]


def _supersede(
    session: Session, current: Proposal, proposal: Proposal, kept: Sequence[Adjustment]
) -> None:
    """The new revision replaces the open one and takes over its kept adjustments."""
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
    _refuse_if_approved(existing, period)
    current = next((p for p in existing if p.state in OPEN_STATES), None)
    if current is not None and not replace:
        return current
    policy = company_policy(session, company)
    stored = policy_row(session, company.id)
    carry = carried_remainder(session, company, period)
    budget = Money(company.monthly_budget_minor + carry, company.currency)
    inputs, plan = _proposal_inputs(session, company, policy, period, budget, carry)
    kept = _kept_adjustments(session, current, inputs.projects)
    reserves = [Reserve.from_dict(r) for r in inputs.stats["reserves"]]
    outcome = _run_engine(
        inputs.projects, budget, policy, kept, plan, inputs.stats["products"], reserves
    )
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
        four_eyes=stored is None or stored.four_eyes,
    )
    session.add(proposal)
    session.flush()
    _store(session, proposal, budget, inputs.projects, outcome)
    if current is not None:
        _supersede(session, current, proposal, kept)
    _record_generated(session, actor, proposal, current, outcome, len(kept))
    if submit:
        submit_for_review(session, actor, proposal, now=now)
    return proposal


def _record_generated(
    session: Session,
    actor: Actor,
    proposal: Proposal,
    superseded: Proposal | None,
    outcome: Outcome,
    adjustments_carried: int,
) -> None:
    record(
        session,
        actor,
        "proposal.generated",
        company_id=proposal.company_id,
        obj=proposal,
        period=proposal.period,
        revision=proposal.revision,
        supersedes=superseded.id if superseded else None,
        budget_minor=proposal.budget_minor,
        paid_minor=proposal.paid_minor,
        held_minor=proposal.held_minor,
        remainder_minor=proposal.remainder_minor,
        lines=len(outcome.split.lines),
        caught_up_minor=outcome.released.caught_up_total,
        respread_minor=outcome.released.respread_total,
        adjustments_carried=adjustments_carried,
    )


def recompute(session: Session, proposal: Proposal) -> Outcome:
    """Re-run the engine on the proposal's stored inputs, policy, budget, reserves and
    adjustments (an exclusion can turn a catch-up into a re-spread, and back)."""
    inputs = _stored_inputs(session, proposal)
    policy = Policy.from_dict(proposal.policy, proposal.currency)
    stats = proposal.stats or {}
    budget = Money(proposal.budget_minor - stats.get("released_minor", 0), proposal.currency)
    reserves = [Reserve.from_dict(r) for r in stats.get("reserves", [])]
    adjustments = adjustments_of(session, proposal.id)
    outcome = _run_engine(
        inputs, budget, policy, adjustments, _stored_plan(proposal), stats.get("products"), reserves
    )
    _store(session, proposal, budget, inputs, outcome)
    return outcome
