"""The SBOM endpoints' part of the OpenAPI document (gathered by service.api.openapi):
products and uploads, and the Dependency-Track compatible endpoints."""

from __future__ import annotations

from typing import Any

from service.api.openapi import error_responses
from service.sboms.dtrack_openapi import DT_PATHS, DT_SCHEMAS

PATHS: dict[str, Any] = {
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
                    "schema": {
                        "type": "integer",
                        "default": 100,
                        "minimum": 1,
                        "maximum": 1000,
                    },
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
                **error_responses(400, 401, 403, 404),
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
    **DT_PATHS,
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
    **DT_SCHEMAS,
}
