"""The OpenAPI 3.1 description of /api/v1, assembled from each domain's paths."""

from __future__ import annotations

from typing import Any

from service import __version__

ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "details"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "details": {"type": "object"},
            },
        }
    },
}


def error_responses(*statuses: int) -> dict[str, Any]:
    return {
        str(status): {
            "description": "Error",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
        for status in statuses
    }


PATHS: dict[str, Any] = {
    "/companies/{slug}": {
        "get": {
            "summary": "The company the token belongs to",
            "security": [{"bearer": ["read"]}],
            "parameters": [
                {"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}}
            ],
            "responses": {
                "200": {
                    "description": "The company",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "slug": {"type": "string"},
                                    "name": {"type": "string"},
                                    "currency": {"type": "string"},
                                    "monthly_budget": {"type": "string", "example": "5000.00"},
                                },
                            }
                        }
                    },
                },
                **error_responses(401, 403, 404),
            },
        }
    },
}


def openapi_document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "Tributary API", "version": __version__},
        "servers": [{"url": "/api/v1"}],
        "paths": PATHS,
        "components": {
            "schemas": {"Error": ERROR},
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
