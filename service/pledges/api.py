"""Pledges and payments over the JSON API.

- `GET /api/v1/companies/{slug}/pledges` (scope `read`): the pledges with the page's
  filters (`period`, `state`, `project`, `platform`) and totals per currency; a bad
  filter answers 400 naming it.
- `GET .../pledges/{id}` (`read`): one pledge with its payments and history.
- `GET .../pledges/{id}/payments` (`read`), `POST .../pledges/{id}/payments` (scope
  `payments:write`): record a payment, JSON `{"amount": "25.00", "currency": "USD",
  "paid_on": "2027-01-10", "platform": "github_sponsors", "reference": "…",
  "confirm_overpayment": false}`. Bad input answers 400 with `details.field`; a change
  the pledge's state refuses (a cancelled pledge) answers 409.

A token only ever sees its own company: any other slug, or another company's pledge,
answers 404.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, jsonify, request

from service.api.auth import token_actor, token_required
from service.core.errors import ApiError, refuse_bad_parameters
from service.db import db_session
from service.money import format_amount
from service.pledges import services
from service.pledges.forms import PledgeFilterForm
from service.pledges.lifecycle import TransitionError
from service.pledges.models import Payment

bp = Blueprint("pledges_api", __name__, url_prefix="/api/v1")


def pledge_body(row: services.PledgeRow) -> dict[str, Any]:
    p = row.pledge
    return {
        "id": p.id,
        "project": row.project_key,
        "project_id": p.project_id,
        "period": p.period,
        "currency": p.currency,
        "amount": format_amount(p.amount_minor, p.currency),
        "amount_minor": p.amount_minor,
        "paid": format_amount(p.paid_minor, p.currency),
        "paid_minor": p.paid_minor,
        "owed_minor": row.owed_minor,
        "state": p.state,
        "source": p.source,
        "recurrence": p.recurrence,
        "note": p.note,
        "proposal_id": p.proposal_id,
        "due_on": p.due_on.isoformat(),
        "exported_at": p.exported_at.isoformat() if p.exported_at else None,
        "cancel_reason": p.cancel_reason,
        "platforms": row.platforms,
        "channels": p.channels,
    }


def payment_body(payment: Payment) -> dict[str, Any]:
    return {
        "id": payment.id,
        "pledge_id": payment.pledge_id,
        "amount": format_amount(payment.amount_minor, payment.currency),
        "amount_minor": payment.amount_minor,
        "currency": payment.currency,
        "paid_on": payment.paid_on.isoformat(),
        "platform": payment.platform,
        "reference": payment.reference,
        "overpayment": payment.overpayment,
        "recorded_at": payment.created_at.isoformat(),
    }


def _pledge(pledge_id: int) -> services.PledgeRow:
    row = services.pledge_of(db_session(), g.company.id, pledge_id)
    if row is None:
        raise ApiError(404, "not_found", f"No pledge {pledge_id} in {g.company.slug}.")
    return row


@bp.get("/companies/<slug>/pledges")
@token_required("read")
def pledges(slug: str):
    form = PledgeFilterForm(request.args)
    refuse_bad_parameters(form.problems)
    filters = form.filters
    listing = services.list_pledges(db_session(), g.company.id, filters)
    return jsonify(
        filters=filters.to_dict(),
        totals={
            currency: {f"{name}_minor": value for name, value in sums.items()}
            for currency, sums in listing.totals.items()
        },
        items=[pledge_body(row) for row in listing.rows],
    )


@bp.get("/companies/<slug>/pledges/<int:pledge_id>")
@token_required("read")
def pledge(slug: str, pledge_id: int):
    session = db_session()
    row = _pledge(pledge_id)
    return jsonify(
        **pledge_body(row),
        payments=[payment_body(p) for p in services.payments_of(session, row.pledge)],
        history=[
            {
                "at": e.at.isoformat(),
                "action": e.action,
                "actor_user_id": e.actor_user_id,
                "actor_label": e.actor_label,
                "details": e.details,
            }
            for e in services.history(session, row.pledge)
        ],
    )


@bp.get("/companies/<slug>/pledges/<int:pledge_id>/payments")
@token_required("read")
def payments(slug: str, pledge_id: int):
    row = _pledge(pledge_id)
    return jsonify(items=[payment_body(p) for p in services.payments_of(db_session(), row.pledge)])


@bp.post("/companies/<slug>/pledges/<int:pledge_id>/payments")
@token_required("payments:write")
def record_payment(slug: str, pledge_id: int):
    session = db_session()
    row = _pledge(pledge_id)
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_json", "Send the payment as a JSON object.")
    confirm = body.get("confirm_overpayment", False)
    if not isinstance(confirm, bool):
        raise ApiError(
            400,
            "invalid_field",
            "confirm_overpayment must be true or false.",
            {"field": "confirm_overpayment"},
        )
    try:
        payment = services.record_payment(
            session,
            token_actor(),
            row.pledge,
            amount=str(body.get("amount", "")),
            currency=str(body.get("currency", "")),
            paid_on=str(body.get("paid_on", "")),
            platform=str(body.get("platform", "")),
            reference=str(body.get("reference") or ""),
            confirm_overpayment=confirm,
        )
    except TransitionError as exc:
        if exc.field is None:
            raise ApiError(409, "invalid_transition", exc.message) from None
        raise ApiError(400, "invalid_field", exc.message, {"field": exc.field}) from None
    return jsonify(payment=payment_body(payment), pledge=pledge_body(row)), 201
