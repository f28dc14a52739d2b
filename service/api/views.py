"""The JSON API under /api/v1: token-authenticated, JSON errors, an OpenAPI document."""

from __future__ import annotations

from flask import Blueprint, g, jsonify

from service.api.auth import token_required
from service.api.openapi import openapi_document
from service.money import format_amount

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.get("/openapi.json")
def openapi():
    return jsonify(openapi_document())


@bp.get("/companies/<slug>")
@token_required("read")
def company(slug: str):
    company = g.company
    return jsonify(
        slug=company.slug,
        name=company.name,
        currency=company.currency,
        monthly_budget=format_amount(company.monthly_budget_minor, company.currency),
    )
