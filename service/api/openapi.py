"""The OpenAPI 3.1 description of /api/v1: the parts every domain's description uses, and
the document, assembled from each domain's ``openapi`` module (its ``PATHS`` and, where
it has them, ``SCHEMAS``; see ``service.domains``)."""

from __future__ import annotations

from typing import Any

from service import __version__
from service.domains import import_modules

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
PROBLEM = {
    "type": "object",
    "description": "RFC 9457 problem, with Tributary's error object",
    "properties": {
        "status": {"type": "integer"},
        "title": {"type": "string"},
        "detail": {"type": "string"},
        "error": ERROR["properties"]["error"],
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


def problem_responses(*statuses: int) -> dict[str, Any]:
    """Refusals of the Dependency-Track endpoints: RFC 9457 problems."""
    return {
        str(status): {
            "description": "Refused",
            "content": {
                "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
            },
        }
        for status in statuses
    }


def ok_response(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    """A 200 (or 201) answer with a JSON body."""
    return {"description": description, "content": {"application/json": {"schema": schema}}}


SLUG = {"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}}

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
SCHEMAS: dict[str, Any] = {"Error": ERROR, "Problem": PROBLEM}


# Any operation may answer these (a rate limit, a database outage): RFC 9457 problem
# documents that carry the API's own error object too, with Retry-After.
OVERLOAD_RESPONSES = {
    str(status): {
        "description": description,
        "headers": {
            "Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}
        },
        "content": {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
        },
    }
    for status, description in (
        (429, "Too many requests from this client (the rate limit is in the detail)"),
        (503, "The database cannot be reached right now"),
    )
}


def _with_overload_answers(paths: dict[str, Any]) -> dict[str, Any]:
    return {
        path: {
            key: {**value, "responses": {**value["responses"], **OVERLOAD_RESPONSES}}
            if key in _METHODS
            else value  # a path's own parameters
            for key, value in item.items()
        }
        for path, item in paths.items()
    }


_METHODS = frozenset({"get", "put", "post", "delete", "patch"})


def openapi_document() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    for part in import_modules("openapi"):
        paths.update(part.PATHS)
        schemas.update(getattr(part, "SCHEMAS", {}))
    return {
        "openapi": "3.1.0",
        "info": {"title": "Tributary API", "version": __version__},
        "servers": [{"url": "/api/v1"}],
        "paths": _with_overload_answers(paths),
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                # Dependency-Track clients send the same Tributary token in this header.
                "dependencyTrackKey": {"type": "apiKey", "in": "header", "name": "X-Api-Key"},
            },
        },
    }
