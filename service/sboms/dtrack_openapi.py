"""The Dependency-Track compatible endpoints' part of the OpenAPI document (merged into
service.sboms.openapi)."""

from __future__ import annotations

from typing import Any

from service.api.openapi import problem_responses

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

# Both upload forms (JSON and multipart) answer the same way.
BOM_UPLOAD_RESPONSES = {
    "200": {
        "description": "Stored; the token can be polled",
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/BomUploadResponse"}}
        },
    },
    "400": {
        "description": "The uploaded BOM is invalid",
        "content": {"application/problem+json": {"schema": {"type": "object"}}},
    },
    **problem_responses(401, 403, 404, 413),
}

DT_PATHS: dict[str, Any] = {
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
            "responses": BOM_UPLOAD_RESPONSES,
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
            "responses": BOM_UPLOAD_RESPONSES,
        },
    },
    "/bom/token/{uuid}": TOKEN_POLL,
    "/event/token/{uuid}": TOKEN_POLL,
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
DT_SCHEMAS: dict[str, Any] = {
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
