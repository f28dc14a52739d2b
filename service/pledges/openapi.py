"""The pledge endpoints' part of the OpenAPI document (gathered by service.api.openapi)."""

from __future__ import annotations

from typing import Any

from service.api.openapi import SLUG, error_responses, ok_response
from service.pledges.lifecycle import PLATFORMS
from service.pledges.models import PledgeState

PLEDGE_ID = {"name": "pledge_id", "in": "path", "required": True, "schema": {"type": "integer"}}
STATES = [s.value for s in PledgeState]
MINOR = {"type": "integer", "description": "Minor units of the currency (cents)"}
DECIMAL = {"type": "string", "example": "25.00"}
PLEDGE = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "project": {"type": "string", "example": "github.com/owner/name"},
        "project_id": {"type": "integer"},
        "period": {"type": "string", "example": "2026-12"},
        "currency": {"type": "string", "example": "USD"},
        "amount": DECIMAL,
        "amount_minor": MINOR,
        "paid": DECIMAL,
        "paid_minor": MINOR,
        "owed_minor": MINOR,
        "state": {"type": "string", "enum": STATES},
        "source": {"type": "string", "enum": ["proposal", "manual"]},
        "recurrence": {"type": "string", "enum": ["once", "monthly"]},
        "note": {"type": ["string", "null"]},
        "proposal_id": {"type": ["integer", "null"]},
        "due_on": {"type": "string", "format": "date"},
        "exported_at": {"type": ["string", "null"], "format": "date-time"},
        "cancel_reason": {"type": ["string", "null"]},
        "platforms": {"type": "array", "items": {"type": "string"}},
        "channels": {
            "type": "object",
            "description": "The maintainers (login, share in basis points, payout channels) "
            "and the project's funding channels when the pledge was made",
        },
    },
}
PAYMENT = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "pledge_id": {"type": "integer"},
        "amount": DECIMAL,
        "amount_minor": MINOR,
        "currency": {"type": "string"},
        "paid_on": {"type": "string", "format": "date"},
        "platform": {"type": "string", "enum": list(PLATFORMS)},
        "reference": {"type": ["string", "null"]},
        "overpayment": {"type": "boolean"},
        "recorded_at": {"type": "string", "format": "date-time"},
    },
}
PAYMENT_INPUT = {
    "type": "object",
    "required": ["amount", "currency", "paid_on", "platform"],
    "properties": {
        "amount": {"type": "string", "example": "25.00", "description": "More than zero"},
        "currency": {"type": "string", "description": "The pledge's currency"},
        "paid_on": {"type": "string", "format": "date", "description": "Not before the period"},
        "platform": {"type": "string", "enum": list(PLATFORMS)},
        "reference": {"type": "string"},
        "confirm_overpayment": {
            "type": "boolean",
            "default": False,
            "description": "Required to record more than is still owed",
        },
    },
}


def _query(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema}


PATHS: dict[str, Any] = {
    "/companies/{slug}/pledges": {
        "get": {
            "summary": "The company's pledges, filtered, with totals per currency",
            "security": [{"bearer": ["read"]}],
            "parameters": [
                SLUG,
                _query("period", {"type": "string", "pattern": "^([0-9]{4}-(0[1-9]|1[0-2]))?$"}),
                _query("state", {"type": "string", "enum": STATES}),
                _query("project", {"type": "string", "description": "Part of the project key"}),
                _query("platform", {"type": "string", "enum": list(PLATFORMS)}),
            ],
            "responses": {
                "200": ok_response(
                    "Pledges",
                    {
                        "type": "object",
                        "properties": {
                            "filters": {"type": "object"},
                            "totals": {
                                "type": "object",
                                "description": "Per currency: pledged_minor, paid_minor, "
                                "owed_minor (cancelled pledges left out)",
                            },
                            "items": {"type": "array", "items": PLEDGE},
                        },
                    },
                ),
                **error_responses(400, 401, 403, 404),
            },
        }
    },
    "/companies/{slug}/pledges/{pledge_id}": {
        "get": {
            "summary": "One pledge with its payments and history",
            "security": [{"bearer": ["read"]}],
            "parameters": [SLUG, PLEDGE_ID],
            "responses": {
                "200": ok_response(
                    "The pledge",
                    {
                        "allOf": [
                            PLEDGE,
                            {
                                "type": "object",
                                "properties": {
                                    "payments": {"type": "array", "items": PAYMENT},
                                    "history": {"type": "array", "items": {"type": "object"}},
                                },
                            },
                        ]
                    },
                ),
                **error_responses(401, 403, 404),
            },
        }
    },
    "/companies/{slug}/pledges/{pledge_id}/payments": {
        "get": {
            "summary": "The payments recorded against a pledge",
            "security": [{"bearer": ["read"]}],
            "parameters": [SLUG, PLEDGE_ID],
            "responses": {
                "200": ok_response(
                    "Payments",
                    {
                        "type": "object",
                        "properties": {"items": {"type": "array", "items": PAYMENT}},
                    },
                ),
                **error_responses(401, 403, 404),
            },
        },
        "post": {
            "summary": "Record a payment against a pledge",
            "description": "Partial payments move the pledge to partially_paid, the last one "
            "to paid; more than is owed needs confirm_overpayment. Bad input answers 400 "
            "with details.field; a cancelled pledge answers 409.",
            "security": [{"bearer": ["payments:write"]}],
            "parameters": [SLUG, PLEDGE_ID],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": PAYMENT_INPUT}},
            },
            "responses": {
                "201": ok_response(
                    "Recorded",
                    {
                        "type": "object",
                        "properties": {"payment": PAYMENT, "pledge": PLEDGE},
                    },
                ),
                **error_responses(400, 401, 403, 404, 409),
            },
        },
    },
}
