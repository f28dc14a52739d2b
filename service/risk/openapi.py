"""The risk endpoints' part of the OpenAPI document (gathered by service.api.openapi)."""

from __future__ import annotations

from typing import Any

from service.api.openapi import SLUG, error_responses, ok_response
from service.risk.table import DEPTHS, MAX_PER_PAGE, PER_PAGE, SORTS

NUMBER = {"type": ["number", "null"]}
BREAKDOWN_LINE = {
    "type": "object",
    "properties": {
        "signal": {"type": "string"},
        "raw": {"description": "The value as read (number, boolean, or an object of inputs)"},
        "normalized": {"type": "number", "description": "0..1, 1 = riskier"},
        "weight": {"type": "number"},
        "contribution": {"type": "number", "description": "Points of the 0..100 score"},
        "source": {"type": ["string", "null"]},
        "fetched_at": {"type": ["string", "null"], "format": "date-time"},
    },
}
DEPENDENCY_PARAMETERS = [
    {"name": "risk_min", "in": "query", "schema": {"type": "number", "minimum": 0, "maximum": 100}},
    {"name": "risk_max", "in": "query", "schema": {"type": "number", "minimum": 0, "maximum": 100}},
    {
        "name": "depth",
        "in": "query",
        "description": "Shallowest depth in any product (1 = direct)",
        "schema": {"type": "string", "enum": list(DEPTHS)},
    },
    {
        "name": "products",
        "in": "query",
        "description": "Used by at least this many products",
        "schema": {"type": "integer", "minimum": 1},
    },
    {"name": "ecosystem", "in": "query", "schema": {"type": "string", "example": "npm"}},
    {
        "name": "status",
        "in": "query",
        "schema": {"type": "string", "enum": ["resolved", "unresolved"]},
    },
    {
        "name": "funding",
        "in": "query",
        "schema": {"type": "string", "enum": ["funded", "unfunded"]},
    },
    {
        "name": "q",
        "in": "query",
        "description": "Text the package key contains",
        "schema": {"type": "string"},
    },
    {
        "name": "project",
        "in": "query",
        "description": "A project id",
        "schema": {"type": "integer", "minimum": 1},
    },
    {
        "name": "sort",
        "in": "query",
        "schema": {"type": "string", "enum": list(SORTS), "default": "risk"},
    },
    {
        "name": "order",
        "in": "query",
        "description": "Default: desc for risk and products, asc otherwise; empty values sort last",
        "schema": {"type": "string", "enum": ["asc", "desc"]},
    },
    {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "default": 1}},
    {
        "name": "per_page",
        "in": "query",
        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "default": PER_PAGE},
    },
]

PATHS: dict[str, Any] = {
    "/companies/{slug}/dependencies": {
        "get": {
            "summary": "Every package of the company's latest SBOMs with project, risk and funding",
            "security": [{"bearer": ["read"]}],
            "parameters": [SLUG, *DEPENDENCY_PARAMETERS],
            "responses": {
                "200": ok_response(
                    "One page of the dependency table",
                    {
                        "type": "object",
                        "properties": {
                            "total": {
                                "type": "integer",
                                "description": "Packages in the inventory",
                            },
                            "matching": {
                                "type": "integer",
                                "description": "Packages passing the filters",
                            },
                            "page": {"type": "integer"},
                            "per_page": {"type": "integer"},
                            "pages": {"type": "integer"},
                            "sort": {"type": "string"},
                            "order": {"type": "string"},
                            "filters": {"type": "object"},
                            "items": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "properties": {
                                        "package": {"type": "string"},
                                        "name": {"type": "string"},
                                        "ecosystem": {"type": "string"},
                                        "products": {"type": "integer"},
                                        "product_names": {
                                            "type": "array",
                                            "items": {"type": "string"},
                                        },
                                        "depth": {"type": ["integer", "null"]},
                                        "resolved": {"type": "boolean"},
                                        "status": {"type": "string"},
                                        "project_id": {"type": ["integer", "null"]},
                                        "project": {"type": ["string", "null"]},
                                        "risk": NUMBER,
                                        "coverage": NUMBER,
                                        "funded": {"type": ["boolean", "null"]},
                                    },
                                },
                            },
                        },
                    },
                ),
                **error_responses(400, 401, 403, 404),
            },
        }
    },
    "/companies/{slug}/risk": {
        "get": {
            "summary": "The company's exposure, pledge coverage, history and top unfunded risks",
            "description": (
                "Exposure = Σ over projects of dependence x risk, where dependence = Σ over "
                "products using the project of 0.5^(depth-1) (unknown depth = 2). Pledge "
                "coverage is the share of exposure held by projects with an active pledge at "
                "or above the proposed amount; `coverage.reason` says why it is 0."
            ),
            "security": [{"bearer": ["read"]}],
            "parameters": [SLUG],
            "responses": {
                "200": ok_response(
                    "Exposure",
                    {
                        "type": "object",
                        "properties": {
                            "computed_on": {"type": ["string", "null"], "format": "date"},
                            "exposure": NUMBER,
                            "unfunded_exposure": NUMBER,
                            "projects": {"type": "integer"},
                            "unscored_projects": {"type": "integer"},
                            "coverage": {
                                "type": "object",
                                "properties": {
                                    "share": {"type": "number"},
                                    "covered_exposure": {"type": "number"},
                                    "covered_projects": {"type": "integer"},
                                    "reason": {
                                        "type": ["string", "null"],
                                        "example": "no pledges recorded yet",
                                    },
                                },
                            },
                            "definition": {"type": "object"},
                            "history": {"type": "array", "items": {"type": "object"}},
                            "top_unfunded": {"type": "array", "items": {"type": "object"}},
                        },
                    },
                ),
                **error_responses(401, 403, 404),
            },
        }
    },
    "/companies/{slug}/risk/projects/{project_id}": {
        "get": {
            "summary": "A project's risk score for the company, with breakdown and explanation",
            "security": [{"bearer": ["read"]}],
            "parameters": [
                SLUG,
                {
                    "name": "project_id",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "integer"},
                },
            ],
            "responses": {
                "200": ok_response(
                    "The latest score and its history",
                    {
                        "type": "object",
                        "properties": {
                            "project_id": {"type": "integer"},
                            "project": {"type": "string"},
                            "in_inventory": {"type": "boolean"},
                            "computed_on": {"type": "string", "format": "date"},
                            "score": NUMBER,
                            "coverage": {"type": "number"},
                            "criticality": NUMBER,
                            "dependence": {"type": "number"},
                            "breakdown": {"type": "array", "items": BREAKDOWN_LINE},
                            "missing": {"type": "array", "items": {"type": "string"}},
                            "explanation": {"type": "array", "items": {"type": "string"}},
                            "history": {"type": "array", "items": {"type": "object"}},
                        },
                    },
                ),
                **error_responses(401, 403, 404),
            },
        }
    },
}
