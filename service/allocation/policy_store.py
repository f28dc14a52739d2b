"""Each company's allocation policy: reading it, validating and storing a change."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlmodel import Session, col, select

from service.allocation.errors import ProposalError
from service.allocation.models import OPEN_STATES, AllocationPolicy, Proposal
from service.allocation.policy import Policy
from service.audit.services import Actor, changes, record
from service.companies.models import Company
from service.companies.services import require_owner
from service.core.clock import utcnow
from service.numbers import InputError


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
    require_owner(session, actor, company.id, "the allocation policy")
    try:
        policy = Policy.from_dict(data, company.currency)
    except InputError as exc:
        raise ProposalError(f"{exc.field}: {exc.message}", exc.field) from None
    row = policy_row(session, company.id) or AllocationPolicy(company_id=company.id)
    before = _audited(row)
    secret_changed = _set_webhook(
        row, webhook_url, webhook_secret, seal, allow_http=allow_http, allow_hosts=allow_hosts
    )
    row.policy = policy.to_dict(company.currency)
    row.four_eyes = bool(four_eyes)
    row.notify_email = bool(notify_email)
    row.updated_by_id = actor.user_id
    row.updated_at = utcnow()
    session.add(row)
    after = _audited(row)
    record(
        session,
        actor,
        "allocation.policy_changed",
        company_id=company.id,
        obj=row,
        **changes(before, after),
        webhook_secret_changed=secret_changed,
    )
    if before != after or secret_changed:
        _count_as_adjustment(session, actor, company.id, row.four_eyes)
    return row


def _audited(row: AllocationPolicy) -> dict[str, Any]:
    """What the audit trail compares before and after a change (never the secret)."""
    return {
        "policy": dict(row.policy or {}),
        "four_eyes": row.four_eyes,
        "notify_email": row.notify_email,
        "webhook_url": row.webhook_url,
    }


def _set_webhook(
    row: AllocationPolicy,
    webhook_url: str | None,
    webhook_secret: str | None,
    seal,
    *,
    allow_http: bool,
    allow_hosts: Iterable[str],
) -> bool:
    """Set or remove the row's webhook; whether its secret changed. Raises ProposalError."""
    from service.notifications.delivery import normalize_webhook_url, webhook_url_problem

    url = normalize_webhook_url(webhook_url or "") or None
    if url is None:
        changed = row.webhook_secret is not None
        row.webhook_url = None
        row.webhook_secret = None
        return changed
    problem = webhook_url_problem(url, allow_http=allow_http, allow_hosts=allow_hosts)
    if problem:
        raise ProposalError(f"webhook_url: the URL {problem}", "webhook_url")
    if len(url) > 1000:
        raise ProposalError("webhook_url: at most 1000 characters", "webhook_url")
    changed = False
    if webhook_secret is not None and webhook_secret.strip():
        secret = webhook_secret.strip()
        if len(secret) < 16:
            raise ProposalError(
                "webhook_secret: use at least 16 random characters", "webhook_secret"
            )
        row.webhook_secret = seal(secret)
        changed = True
    elif row.webhook_secret is None:
        raise ProposalError(
            "webhook_secret: give a signing secret (at least 16 random characters); "
            "receivers check the X-Tributary-Signature header with it",
            "webhook_secret",
        )
    row.webhook_url = url
    return changed


def _count_as_adjustment(session: Session, actor: Actor, company_id: int, four_eyes: bool) -> None:
    """A policy change while a proposal is open changes that proposal under four eyes: its
    author cannot approve it, and four eyes, once on, stays on for it."""
    for proposal in session.exec(
        select(Proposal).where(
            Proposal.company_id == company_id, col(Proposal.state).in_(list(OPEN_STATES))
        )
    ):
        proposal.last_edited_by_id = actor.user_id
        proposal.four_eyes = proposal.four_eyes or four_eyes
        session.add(proposal)
