"""The OpenAPI 3.1 description of /api/v1, assembled from each domain's paths."""

from __future__ import annotations

from typing import Any

from service import __version__
from service.pledges.openapi import PLEDGE_PATHS
from service.risk.openapi import RISK_PATHS

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


# Dependency-Track clients send the key as X-Api-Key; Tributary's bearer token works too.
DT_SECURITY = [{"dependencyTrackKey": []}, {"bearer": []}]

# Dependency-Track's two polling paths answer the same.
TOKEN_POLL = {
    "get": {
        "summary": "Dependency-Track compatible: is the upload still processing?",
        "security": DT_SECURITY,
        "parameters": [
            {
                "name": "uuid",
                "in": "path",
                "required": True,
                "schema": {"type": "string", "format": "uuid"},
            }
        ],
        "responses": {
            "200": {
                "description": "Always false: uploads are stored before they are answered",
                "content": {
                    "application/json": {
                        "schema": {"$ref": "#/components/schemas/ProcessingResponse"}
                    }
                },
            },
            **problem_responses(400, 401, 403),
        },
    }
}


def _dt_read(summary: str, schema: dict[str, Any], *, paged: bool = False) -> dict[str, Any]:
    """A Dependency-Track read endpoint of one project."""
    headers = (
        {"X-Total-Count": {"schema": {"type": "integer"}, "description": "Always 0"}}
        if paged
        else {}
    )
    return {
        "get": {
            "summary": summary,
            "security": DT_SECURITY,
            "parameters": [UUID_PARAMETER],
            "responses": {
                "200": {
                    "description": "For every existing project (never 404 for one)",
                    "headers": headers,
                    "content": {"application/json": {"schema": schema}},
                },
                **problem_responses(400, 401, 403, 404),
            },
        }
    }


UUID_PARAMETER = {
    "name": "uuid",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "format": "uuid"},
}
DT_PROJECT = {"$ref": "#/components/schemas/DtProject"}
DT_PROJECT_ANSWER = {
    "description": "The project (one version of a product)",
    "content": {"application/json": {"schema": DT_PROJECT}},
}

DT_PATHS: dict[str, Any] = {
    "/version": {
        "servers": [{"url": "/api"}],
        "get": {
            "summary": "Dependency-Track compatible: who answers (no key needed)",
            "responses": {
                "200": {
                    "description": "`version` is the Dependency-Track API level answered",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/DtAbout"}}
                    },
                }
            },
        },
    },
    "/project": {
        "get": {
            "summary": "Dependency-Track compatible: the company's projects (product versions)",
            "security": DT_SECURITY,
            "parameters": [
                {"name": name, "in": "query", "schema": schema}
                for name, schema in (
                    ("name", {"type": "string"}),
                    ("searchText", {"type": "string"}),
                    ("excludeInactive", {"type": "boolean"}),
                    ("onlyRoot", {"type": "boolean"}),
                    ("pageNumber", {"type": "integer", "default": 1}),
                    (
                        "pageSize",
                        {
                            "type": "integer",
                            "default": 100,
                            "description": "Larger pages are cut to 10,000 projects",
                        },
                    ),
                    ("offset", {"type": "integer"}),
                    ("limit", {"type": "integer"}),
                )
            ],
            "responses": {
                "200": {
                    "description": "One page, by name then version",
                    "headers": {"X-Total-Count": {"schema": {"type": "integer"}}},
                    "content": {
                        "application/json": {"schema": {"type": "array", "items": DT_PROJECT}}
                    },
                },
                **problem_responses(400, 401, 403),
            },
        }
    },
    "/project/lookup": {
        "get": {
            "summary": "Dependency-Track compatible: the project of a name and version",
            "security": DT_SECURITY,
            "parameters": [
                {
                    "name": "name",
                    "in": "query",
                    "required": True,
                    "schema": {"type": "string", "minLength": 1},
                },
                {"name": "version", "in": "query", "schema": {"type": "string"}},
            ],
            "responses": {"200": DT_PROJECT_ANSWER, **problem_responses(400, 401, 403, 404)},
        }
    },
    "/project/{uuid}": {
        "get": {
            "summary": "Dependency-Track compatible: one project",
            "security": DT_SECURITY,
            "parameters": [UUID_PARAMETER],
            "responses": {"200": DT_PROJECT_ANSWER, **problem_responses(400, 401, 403, 404)},
        },
        "patch": {
            "summary": "Dependency-Track compatible: change active, isLatest, tags or parent",
            "description": "Other Project fields are not kept by Tributary and are ignored; "
            "a different name or version is refused (upload under it instead).",
            "security": DT_SECURITY,
            "parameters": [UUID_PARAMETER],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/DtProjectPatch"}}
                },
            },
            "responses": {
                "200": DT_PROJECT_ANSWER,
                "304": {"description": "Nothing changed"},
                **problem_responses(400, 401, 403, 404, 409),
            },
        },
    },
    "/metrics/project/{uuid}/current": _dt_read(
        "Dependency-Track compatible: current metrics (no vulnerabilities: not audited)",
        {"$ref": "#/components/schemas/DtProjectMetrics"},
    ),
    "/finding/project/{uuid}": _dt_read(
        "Dependency-Track compatible: findings (always none: not audited)",
        {"type": "array", "maxItems": 0},
        paged=True,
    ),
    "/violation/project/{uuid}": _dt_read(
        "Dependency-Track compatible: policy violations (always none: no policies)",
        {"type": "array", "maxItems": 0},
        paged=True,
    ),
    "/team/self": {
        "get": {
            "summary": "Dependency-Track compatible: the key's team (the token), its permissions",
            "security": DT_SECURITY,
            "responses": {
                "200": {
                    "description": "Clients call it to test a connection and the upload right",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["uuid", "name", "permissions"],
                                "properties": {
                                    "uuid": {"type": "string", "format": "uuid"},
                                    "name": {"type": "string"},
                                    "permissions": {
                                        "type": "array",
                                        "items": {
                                            "type": "object",
                                            "required": ["name"],
                                            "properties": {
                                                "name": {"type": "string"},
                                                "description": {"type": "string"},
                                            },
                                        },
                                    },
                                },
                            }
                        }
                    },
                },
                **problem_responses(401, 403),
            },
        }
    },
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
    "/companies/{slug}/products": {
        "get": {
            "summary": "The company's products, each with its latest SBOM",
            "security": [{"bearer": ["read"]}],
            "parameters": [
                {"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}}
            ],
            "responses": {
                "200": {
                    "description": "Products by name",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "products": {
                                        "type": "array",
                                        "items": {"$ref": "#/components/schemas/ProductRow"},
                                    }
                                },
                            }
                        }
                    },
                },
                **error_responses(401, 403, 404),
            },
        }
    },
    "/companies/{slug}/products/{product}/sboms": {
        "parameters": [
            {"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}},
            {
                "name": "product",
                "in": "path",
                "required": True,
                "description": "Product name (URL-encoded); created on first upload",
                "schema": {"type": "string"},
            },
        ],
        "get": {
            "summary": "The product's SBOMs, newest first (the first is its inventory)",
            "security": [{"bearer": ["read"]}],
            "parameters": [
                {
                    "name": "limit",
                    "in": "query",
                    "schema": {"type": "integer", "default": 100, "maximum": 1000},
                }
            ],
            "responses": {
                "200": {
                    "description": "The product and its SBOMs",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "product": {"$ref": "#/components/schemas/Product"},
                                    "sboms": {
                                        "type": "array",
                                        "items": {"$ref": "#/components/schemas/Sbom"},
                                    },
                                },
                            }
                        }
                    },
                },
                **error_responses(401, 403, 404),
            },
        },
        "post": {
            "summary": "Upload an SBOM for the product",
            "description": (
                "CycloneDX (JSON/XML), SPDX 2.2/2.3 (JSON/tag-value), SPDX 3 JSON-LD or a "
                "GitHub dependency-graph export, optionally gzip-compressed, as the raw body "
                "or as the file part of a multipart form. The same bytes uploaded again for "
                "the same product answer 200 with the stored SBOM and `created: false`; "
                "nothing is stored twice. A document that cannot be read answers 400 with "
                "the parser's error code and a message naming the place."
            ),
            "security": [{"bearer": ["sbom:write"]}],
            "parameters": [
                {"name": "version", "in": "query", "schema": {"type": "string"}},
                {"name": "filename", "in": "query", "schema": {"type": "string"}},
            ],
            "requestBody": {
                "required": True,
                "content": {
                    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
                    "application/json": {"schema": {"type": "object"}},
                    "application/xml": {"schema": {"type": "string"}},
                    "multipart/form-data": {
                        "schema": {
                            "type": "object",
                            "properties": {
                                "file": {"type": "string", "format": "binary"},
                                "version": {"type": "string"},
                            },
                        }
                    },
                },
            },
            "responses": {
                "201": {
                    "description": "Stored",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Upload"}}
                    },
                },
                "200": {
                    "description": "Already stored: the same bytes were uploaded before",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Upload"}}
                    },
                },
                **error_responses(400, 401, 403, 404, 413),
            },
        },
    },
    "/bom": {
        "put": {
            "summary": "Dependency-Track compatible upload (JSON, BOM in base64)",
            "security": DT_SECURITY,
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {"$ref": "#/components/schemas/BomSubmitRequest"}
                    }
                },
            },
            "responses": {
                "200": {
                    "description": "Stored; the token can be polled",
                    "content": {
                        "application/json": {
                            "schema": {"$ref": "#/components/schemas/BomUploadResponse"}
                        }
                    },
                },
                "400": {
                    "description": "The uploaded BOM is invalid",
                    "content": {"application/problem+json": {"schema": {"type": "object"}}},
                },
                **problem_responses(401, 403, 404, 413),
            },
        },
        "post": {
            "summary": "Dependency-Track compatible upload (multipart)",
            "security": DT_SECURITY,
            "requestBody": {
                "required": True,
                "content": {
                    "multipart/form-data": {
                        "schema": {
                            "type": "object",
                            "required": ["bom"],
                            "properties": {
                                "project": {"type": "string", "format": "uuid"},
                                "projectName": {"type": "string"},
                                "projectVersion": {"type": "string"},
                                "autoCreate": {"type": "string", "enum": ["true", "false"]},
                                "parentUUID": {"type": "string", "format": "uuid"},
                                "parentName": {"type": "string"},
                                "parentVersion": {"type": "string"},
                                "projectTags": {
                                    "type": "string",
                                    "description": "Comma-separated tag names",
                                },
                                "isLatest": {"type": "string", "enum": ["true", "false"]},
                                "bom": {
                                    "type": "string",
                                    "format": "binary",
                                    "description": "File part, or text field holding the BOM",
                                },
                            },
                        }
                    }
                },
            },
            "responses": {
                "200": {
                    "description": "Stored; the token can be polled",
                    "content": {
                        "application/json": {
                            "schema": {"$ref": "#/components/schemas/BomUploadResponse"}
                        }
                    },
                },
                "400": {
                    "description": "The uploaded BOM is invalid",
                    "content": {"application/problem+json": {"schema": {"type": "object"}}},
                },
                **problem_responses(401, 403, 404, 413),
            },
        },
    },
    "/bom/token/{uuid}": TOKEN_POLL,
    "/event/token/{uuid}": TOKEN_POLL,
    **DT_PATHS,
    **RISK_PATHS,
    **PLEDGE_PATHS,
}

PRODUCT = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": "string"},
        "uuid": {"type": "string", "format": "uuid"},
        "created_at": {"type": "string", "format": "date-time"},
    },
}
SBOM = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "product_id": {"type": "integer"},
        "created_at": {"type": "string", "format": "date-time"},
        "sha256": {"type": "string"},
        "format": {"type": "string", "enum": ["cyclonedx", "spdx"]},
        "spec_version": {"type": "string"},
        "encoding": {"type": "string"},
        "source": {"type": "string"},
        "filename": {"type": ["string", "null"]},
        "project_version": {"type": ["string", "null"]},
        "components": {"type": "integer"},
        "summary": {
            "type": "object",
            "properties": {
                "format": {"type": "string"},
                "spec_version": {"type": "string"},
                "encoding": {"type": "string"},
                "components": {"type": "integer"},
                "with_purl": {"type": "integer"},
                "packages": {"type": "integer"},
                "dependency_edges": {"type": "integer"},
                "direct": {"type": ["integer", "null"]},
                "warnings": {"type": "array", "items": {"type": "string"}},
                "warning_count": {"type": "integer"},
            },
        },
        "diff": {
            "type": "object",
            "description": "Against the product's previous SBOM; lists cut at 100 entries",
            "properties": {
                "first": {"type": "boolean"},
                "previous_sbom_id": {"type": ["integer", "null"]},
                "added_count": {"type": "integer"},
                "removed_count": {"type": "integer"},
                "changed_count": {"type": "integer"},
                "unchanged_count": {"type": "integer"},
                "added": {"type": "array", "items": {"type": "object"}},
                "removed": {"type": "array", "items": {"type": "object"}},
                "changed": {"type": "array", "items": {"type": "object"}},
                "truncated": {"type": "boolean"},
            },
        },
    },
}
SCHEMAS: dict[str, Any] = {
    "Error": ERROR,
    "Product": PRODUCT,
    "Sbom": SBOM,
    "Upload": {
        "allOf": [
            {"$ref": "#/components/schemas/Sbom"},
            {
                "type": "object",
                "properties": {
                    "created": {"type": "boolean"},
                    "product": {"$ref": "#/components/schemas/Product"},
                },
            },
        ]
    },
    "ProductRow": {
        "allOf": [
            {"$ref": "#/components/schemas/Product"},
            {
                "type": "object",
                "properties": {
                    "sboms": {"type": "integer"},
                    "latest_sbom": {
                        "description": "null until the first upload",
                        "oneOf": [{"$ref": "#/components/schemas/Sbom"}, {"type": "null"}],
                    },
                },
            },
        ]
    },
    "BomSubmitRequest": {
        "type": "object",
        "required": ["bom"],
        "properties": {
            "project": {"type": "string", "format": "uuid", "description": "Project UUID"},
            "projectName": {"type": "string"},
            "projectVersion": {"type": "string"},
            "autoCreate": {"type": "boolean"},
            "parentUUID": {"type": "string", "format": "uuid"},
            "parentName": {"type": "string"},
            "parentVersion": {"type": "string"},
            "projectTags": {
                "type": "array",
                "items": {"type": "object", "properties": {"name": {"type": "string"}}},
            },
            "isLatest": {"type": "boolean"},
            "bom": {"type": "string", "description": "The BOM, base64-encoded"},
        },
    },
    "Problem": {
        "type": "object",
        "description": "RFC 9457 problem, with Tributary's error object",
        "properties": {
            "status": {"type": "integer"},
            "title": {"type": "string"},
            "detail": {"type": "string"},
            "error": ERROR["properties"]["error"],
        },
    },
    "DtAbout": {
        "type": "object",
        "properties": {
            "application": {"type": "string", "const": "Tributary"},
            "version": {"type": "string", "description": "Dependency-Track API level"},
            "framework": {"type": "object"},
        },
    },
    "DtProject": {
        "type": "object",
        "description": "Dependency-Track's Project: one version of a product. Absent "
        "values are left out, as Dependency-Track leaves out nulls.",
        "required": ["uuid", "name", "active", "isLatest", "tags"],
        "properties": {
            "uuid": {"type": "string", "format": "uuid"},
            "name": {"type": "string"},
            "version": {"type": "string"},
            "active": {"type": "boolean"},
            "isLatest": {"type": "boolean"},
            "tags": {
                "type": "array",
                "items": {"type": "object", "properties": {"name": {"type": "string"}}},
            },
            "lastBomImport": {"type": "integer", "description": "Epoch milliseconds"},
            "lastBomImportFormat": {"type": "string"},
            "parent": {
                "type": "object",
                "properties": {
                    "uuid": {"type": "string", "format": "uuid"},
                    "name": {"type": "string"},
                    "version": {"type": "string"},
                },
            },
            "versions": {
                "type": "array",
                "description": "In single-project answers",
                "items": {
                    "type": "object",
                    "properties": {
                        "uuid": {"type": "string", "format": "uuid"},
                        "version": {"type": "string"},
                        "active": {"type": "boolean"},
                        "isLatest": {"type": "boolean"},
                    },
                },
            },
        },
    },
    "DtProjectPatch": {
        "type": "object",
        "properties": {
            "active": {"type": "boolean"},
            "isLatest": {"type": "boolean"},
            "tags": {
                "type": "array",
                "items": {"type": "object", "properties": {"name": {"type": "string"}}},
            },
            "parent": {
                "type": "object",
                "required": ["uuid"],
                "properties": {"uuid": {"type": "string", "format": "uuid"}},
            },
        },
    },
    "DtProjectMetrics": {
        "type": "object",
        "description": "Dependency-Track's ProjectMetrics: every vulnerability and policy "
        "counter 0, `components` the count of the version's upload, occurrences in epoch "
        "milliseconds",
        "additionalProperties": {"type": "number"},
    },
    "BomUploadResponse": {
        "type": "object",
        "properties": {"token": {"type": "string", "format": "uuid"}},
    },
    "ProcessingResponse": {
        "type": "object",
        "properties": {"processing": {"type": "boolean"}},
    },
}


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
    return {
        "openapi": "3.1.0",
        "info": {"title": "Tributary API", "version": __version__},
        "servers": [{"url": "/api/v1"}],
        "paths": _with_overload_answers(PATHS),
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                # Dependency-Track clients send the same Tributary token in this header.
                "dependencyTrackKey": {"type": "apiKey", "in": "header", "name": "X-Api-Key"},
            },
        },
    }
