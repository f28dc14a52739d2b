"""Announcing proposals: ready for review, approved.

In the caller's transaction: an in-app notice for every reviewer and owner of the company
(but the person who acted), and — queued, sent after the commit — one e-mail to those
with an address (when SMTP is configured and the policy wants e-mail) and one signed
webhook (when the policy has one). Webhook bodies::

    {"event": "proposal.approved", "delivery": "<uuid>", "occurred_at": "...Z",
     "data": {"company": "acme", "period": "2026-12", "revision": 1, "state": "approved",
              "currency": "USD", "budget": "5000.00", "paid": "4990.00", "held": "0.00",
              "remainder": "10.00", "url": "https://…/c/acme/proposals/2026-12",
              "lines": [{"project": "github.com/o/r", "amount": "250.00"}, ...]}}
"""

from __future__ import annotations

from datetime import datetime

from flask import has_app_context
from sqlmodel import Session, col, select

from service.accounts.models import User
from service.allocation.models import AllocationPolicy, LineKind, Proposal, ProposalLine
from service.audit.services import Actor
from service.companies.models import Company
from service.core.services import get_settings
from service.money import format_amount
from service.notifications import services as notices

EVENTS = {
    "proposal.ready": "is ready for review",
    "proposal.approved": "was approved",
}


def proposal_path(company: Company, period: str) -> str:
    return f"/c/{company.slug}/proposals/{period}"


def _settings():
    return get_settings() if has_app_context() else None


def announce(
    session: Session, proposal: Proposal, event: str, *, actor: Actor, now: datetime
) -> None:
    company = session.get(Company, proposal.company_id)
    currency = proposal.currency
    path = proposal_path(company, proposal.period)
    by = ""
    if actor.user_id is not None:
        user = session.get(User, actor.user_id)
        by = f" by {user.login}" if user else ""
    money = (
        f"{format_amount(proposal.paid_minor, currency)} {currency} to "
        f"{_count(session, proposal.id)} projects, "
        f"{format_amount(proposal.held_minor, currency)} held, "
        f"{format_amount(proposal.remainder_minor, currency)} remainder"
    )
    message = (
        f"{company.name}: the allocation proposal for {proposal.period} "
        f"{EVENTS[event]}{by} ({money})."
    )
    people = [u for u in notices.company_people(session, company.id) if u.id != actor.user_id]
    kind = event.replace(".", "_")
    notices.notify(
        session,
        [u.id for u in people],
        kind,
        message,
        company_id=company.id,
        link=path,
        now=now,
    )
    policy = session.get(AllocationPolicy, company.id)
    settings = _settings()
    wants_email = policy.notify_email if policy is not None else True
    if wants_email and settings is not None and settings.mail_backend != "null":
        link = notices.absolute_link(path)
        notices.queue_email(
            session,
            [u.email for u in people if u.email],
            f"[Tributary] {company.name}: proposal for {proposal.period} {EVENTS[event]}",
            f"{message}\n\nReview it: {link}\n",
            company_id=company.id,
            unique_key=f"email:{event}:{proposal.id}",
        )
    if policy is not None and policy.webhook_url and policy.webhook_secret:
        notices.queue_webhook(
            session,
            url=policy.webhook_url,
            sealed_secret=policy.webhook_secret,
            event=event,
            data=_webhook_data(session, company, proposal, path),
            company_id=company.id,
            now=now,
        )


def _count(session: Session, proposal_id: int) -> int:
    return len(
        session.exec(
            select(ProposalLine.id).where(
                ProposalLine.proposal_id == proposal_id, ProposalLine.kind == LineKind.line.value
            )
        ).all()
    )


def _webhook_data(session: Session, company: Company, proposal: Proposal, path: str) -> dict:
    currency = proposal.currency
    lines = session.exec(
        select(ProposalLine.project_key, ProposalLine.amount_minor)
        .where(ProposalLine.proposal_id == proposal.id, ProposalLine.kind == LineKind.line.value)
        .order_by(col(ProposalLine.amount_minor).desc(), col(ProposalLine.project_key))
    ).all()
    return {
        "company": company.slug,
        "period": proposal.period,
        "revision": proposal.revision,
        "state": proposal.state,
        "currency": currency,
        "budget": format_amount(proposal.budget_minor, currency),
        "paid": format_amount(proposal.paid_minor, currency),
        "held": format_amount(proposal.held_minor, currency),
        "remainder": format_amount(proposal.remainder_minor, currency),
        "url": notices.absolute_link(path),
        "lines": [
            {"project": key, "amount": format_amount(amount, currency)} for key, amount in lines
        ],
    }
