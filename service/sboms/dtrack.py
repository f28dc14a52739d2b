"""Dependency-Track's REST API, as far as CI pipelines and their clients use it.

A company points its pipeline at Tributary by changing only the URL and the key
(`X-Api-Key`: a Tributary token; sbom:write to upload or change, read or sbom:write to
read). Each answer has Dependency-Track's field names, types, status codes and paging
header (`X-Total-Count`); every refusal is an RFC 9457 problem (`application/problem+json`)
with Tributary's `error` object inside.

Dependency-Track keeps each name + version as a project of its own. Tributary keeps one
product per name and records the versions its uploads name (`ProductVersion`): each
version is what a client sees as a project, with its own UUID (the product's first
version has the product's UUID), `active` flag, `isLatest` flag and `lastBomImport`.
Parent and tags belong to the product, so every version shows them.

Uploads:
- `PUT /api/v1/bom`: JSON `{"project": uuid}` or `{"projectName", "projectVersion"?,
  "autoCreate"?}`, plus `"bom"` (base64) and optionally `parentUUID` | `parentName`
  (+ `parentVersion`), `projectTags` ([{"name"}]), `isLatest`.
- `POST /api/v1/bom`: multipart with the same fields (`projectTags` comma-separated);
  `bom` as a file part or a text field.
- `GET /api/v1/bom/token/{uuid}`, `GET /api/v1/event/token/{uuid}`: `{"processing": false}`
  (an upload is stored before it is answered).
Projects: `GET /api/version` (no key), `GET /api/v1/project` (name, searchText,
excludeInactive, onlyRoot; page/pageNumber with size/pageSize/limit, or offset),
`GET /api/v1/project/lookup?name=&version=`, `GET /api/v1/project/{uuid}`,
`PATCH /api/v1/project/{uuid}` (active, isLatest, tags, parent; 304 when nothing
changes, as Dependency-Track).
Build gates: `GET /api/v1/metrics/project/{uuid}/current`, `/api/v1/finding/project/{uuid}`
and `/api/v1/violation/project/{uuid}` answer for every existing project, with no
vulnerabilities, findings or policy violations: Tributary does not audit them (the
metrics carry the component count of the version's upload).
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid as uuid_module
from dataclasses import dataclass, replace
from http import HTTPStatus
from typing import Any

from flask import Blueprint, Response, jsonify, request
from sqlmodel import Session
from werkzeug.exceptions import HTTPException

from service import __version__
from service.api.auth import bearer_token
from service.audit.services import Actor, record
from service.companies.models import ApiToken, Company
from service.companies.services import authenticate_token
from service.core.clock import utcnow
from service.core.errors import MAX_ROW_ID, ApiError, error_response
from service.db import db_session
from service.sboms import services
from service.sboms.dtrack_projects import (
    Project,
    apply_patch,
    epoch_ms,
    find_project,
    matching_projects,
    parent_by_name,
    parent_by_uuid,
    parse_uuid,
    place_upload,
    project_json,
    tag_names,
)
from service.sboms.models import Sbom
from service.sboms.parsing import SbomError, read_json

bp = Blueprint("dtrack_api", __name__, url_prefix="/api/v1")

# The Dependency-Track API level these endpoints answer as: clients read `version` to
# decide which requests they may make (isLatest and PATCH came with 4.12).
DT_API_VERSION = "4.12.0"
WRITE = "sbom:write"
READ = ("read", WRITE)
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 10_000  # a company's versions, all in one answer if a client asks


@bp.errorhandler(HTTPException)
def _problem(error: HTTPException) -> Response:
    """Every refusal as a problem document, Tributary's error object inside."""
    answer = error_response(error)
    status = answer.status_code
    problem = _problem_response(status, HTTPStatus(status).phrase, answer.get_json()["error"])
    if "Retry-After" in answer.headers:
        problem.headers["Retry-After"] = answer.headers["Retry-After"]
    return problem


def _problem_response(status: int, title: str, error: dict[str, Any]) -> Response:
    body = {"status": status, "title": title, "detail": error["message"], "error": error}
    return Response(json.dumps(body), status, mimetype="application/problem+json")


def version_info():
    """`GET /api/version`: who answers, and the Dependency-Track API level it speaks."""
    return jsonify(
        application="Tributary",
        version=DT_API_VERSION,
        timestamp=None,
        uuid=None,
        framework={"name": "Tributary", "version": __version__},
    )


# Keys ----------------------------------------------------------------------------------------


def _token(*scopes: str) -> ApiToken:
    """The API token sent as X-Api-Key (or a bearer token); 401/403 as Dependency-Track."""
    key = request.headers.get("X-Api-Key") or bearer_token()
    if not key:
        raise ApiError(
            401,
            "unauthorized",
            "Send a Tributary API token with the sbom:write scope in the X-Api-Key header.",
        )
    session = db_session()
    token = authenticate_token(session, key.strip())
    if token is None:
        raise ApiError(401, "unauthorized", "The API key is unknown or has been revoked.")
    if not any(scope in token.scopes for scope in scopes):
        raise ApiError(
            403,
            "insufficient_scope",
            f"This token lacks the '{scopes[0]}' scope.",
            {"required_scope": scopes[0]},
        )
    return token


def _company(*scopes: str) -> tuple[ApiToken, Company]:
    token = _token(*scopes)
    company = db_session().get(Company, token.company_id)
    assert company is not None  # a token's company is never deleted
    return token, company


# The key's "team" -----------------------------------------------------------------------------

# Dependency-Track's permissions that a Tributary scope grants here, with their descriptions.
_PERMISSIONS = {
    "BOM_UPLOAD": "Allows the ability to upload CycloneDX Software Bill of Materials (SBOM)",
    "PROJECT_CREATION_UPLOAD": "Provides the ability to optionally create project (if "
    "non-existent) on BOM or scan upload",
    "VIEW_PORTFOLIO": "Provides the ability to view the portfolio of projects, components, "
    "and licenses",
}
_TOKEN_TEAMS = uuid_module.UUID("0b7c5d1e-7a43-4f55-9d65-3f1c2a9e8b40")  # names token "teams"


@bp.get("/team/self")
def team_self():
    """What the key may do, as Dependency-Track's TeamSelfResponse: clients call it to test
    a connection and to check they may upload. In Tributary the "team" is the token."""
    token, company = _company(*READ)
    granted = ["VIEW_PORTFOLIO"]
    if WRITE in token.scopes:
        granted[:0] = ["BOM_UPLOAD", "PROJECT_CREATION_UPLOAD"]
    return jsonify(
        {
            "uuid": str(uuid_module.uuid5(_TOKEN_TEAMS, f"{company.id}/{token.id}")),
            "name": f"{company.name}: {token.name}",
            "permissions": [{"name": p, "description": _PERMISSIONS[p]} for p in granted],
        }
    )


# Projects -----------------------------------------------------


def _param(*names: str) -> str | None:
    """The first of these query parameters that is given (Dependency-Track takes aliases)."""
    for name in names:
        value = (request.args.get(name) or "").strip()
        if value:
            return value
    return None


def _number(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        raise ApiError(
            400, "invalid_request", f"Paging parameters are whole numbers, got {value[:20]!r}."
        ) from None


def _page() -> tuple[int, int]:
    """(offset, limit) as Dependency-Track reads them: `offset` (with `limit`), else
    `page`/`pageNumber` with `size`/`pageSize`/`limit` (both needed), else the first 100."""
    offset, page = _param("offset"), _param("page", "pageNumber")
    size = _number(_param("size", "pageSize", "limit"), DEFAULT_PAGE_SIZE)
    size = max(1, min(size, MAX_PAGE_SIZE))
    if offset is not None:
        return min(max(0, _number(offset, 0)), MAX_ROW_ID), size
    if page is not None and _param("size", "pageSize", "limit") is not None:
        # An offset past any row there can be reads nothing, within the database's integers.
        return min((max(1, _number(page, 1)) - 1) * size, MAX_ROW_ID), size
    return 0, DEFAULT_PAGE_SIZE


def _flag(name: str) -> bool:
    return (request.args.get(name) or "").strip().lower() == "true"


@bp.get("/project")
def list_projects():
    _, company = _company(*READ)
    session = db_session()
    offset, limit = _page()
    projects, total = matching_projects(
        session,
        company,
        name=(request.args.get("name") or "").strip(),
        text=_param("filter", "searchText"),
        active_only=_flag("excludeInactive"),
        roots_only=_flag("onlyRoot"),
        offset=offset,
        limit=limit,
    )
    response = jsonify([project_json(session, project) for project in projects])
    response.headers["X-Total-Count"] = str(total)
    return response


@bp.get("/project/lookup")
def lookup_project():
    _, company = _company(*READ)
    session = db_session()
    name = (request.args.get("name") or "").strip()
    if not name:
        raise ApiError(400, "invalid_request", "Send the project's name (and version).")
    product = services.find_product(session, company, name)
    row = services.find_version(session, product, request.args.get("version")) if product else None
    if product is None or row is None:
        raise ApiError(404, "project_not_found", "The project could not be found.")
    return jsonify(project_json(session, Project(row, product), with_versions=True))


@bp.get("/project/<project_uuid>")
def get_project(project_uuid: str):
    _, company = _company(*READ)
    session = db_session()
    project = find_project(session, company, project_uuid)
    return jsonify(project_json(session, project, with_versions=True))


@bp.patch("/project/<project_uuid>")
def patch_project(project_uuid: str):
    token, company = _company(WRITE)
    changes = request.get_json(silent=True)
    if not isinstance(changes, dict):
        raise ApiError(400, "invalid_request", "Send the fields to change as a JSON object.")

    session = db_session()
    project = find_project(session, company, project_uuid)
    changed = apply_patch(session, company, project, changes)
    if not changed:
        return Response(status=304)
    record(
        session,
        Actor(token_id=token.id),
        "product.version_updated",
        company_id=company.id,
        obj=project.product,
        version=project.version.version,
        changed=changed,
    )
    return jsonify(project_json(session, project, with_versions=True))


# Uploads -----------------------------------------------------------------------------------


def _truthy(value: Any) -> bool:
    # Dependency-Track takes a JSON boolean, and "true" (any case) in multipart forms.
    if isinstance(value, bool):
        return value
    return isinstance(value, str) and value.strip().lower() == "true"


def _text(value: Any, field: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or "\x00" in value:
        raise ApiError(
            400, "invalid_request", f"{field} is text without NUL characters.", {"field": field}
        )
    return value.strip() or None


@dataclass(frozen=True)
class UploadFields:
    """What a Dependency-Track client sends beside the BOM."""

    project: str | None
    project_name: str | None
    project_version: str | None
    auto_create: bool
    parent_uuid: str | None
    parent_name: str | None
    parent_version: str | None
    tags: list[str] | None
    is_latest: bool

    @classmethod
    def read(cls, source: Any, tags: list[str] | None) -> UploadFields:
        return cls(
            project=_text(source.get("project"), "project"),
            project_name=_text(source.get("projectName"), "projectName"),
            project_version=_text(source.get("projectVersion"), "projectVersion"),
            auto_create=_truthy(source.get("autoCreate")),
            parent_uuid=_text(source.get("parentUUID"), "parentUUID"),
            parent_name=_text(source.get("parentName"), "parentName"),
            parent_version=_text(source.get("parentVersion"), "parentVersion"),
            tags=tags,
            is_latest=_truthy(source.get("isLatest")),
        )


def _target(session: Session, company: Company, fields: UploadFields) -> tuple[str, str | None]:
    """(product name, version) the upload goes to; 404 as Dependency-Track answers."""
    if fields.project:
        project = find_project(session, company, fields.project)
        # The UUID names one version; as in Dependency-Track, a name or version sent with
        # it is not read.
        return project.product.name, project.version.version or None
    if not fields.project_name:
        raise ApiError(
            400,
            "invalid_request",
            "Send project (a project UUID shown on the product's Tributary page) or projectName.",
        )
    try:
        name = services.normalize_product_name(fields.project_name)
    except SbomError as exc:
        raise ApiError(400, exc.code, exc.message, exc.details) from None
    if services.find_product(session, company, name) is None and not fields.auto_create:
        raise ApiError(
            404,
            "project_not_found",
            "The project could not be found. Send autoCreate=true to create it.",
            {"projectName": name},
        )
    return name, fields.project_version


def _ingest(
    token: ApiToken, company: Company, fields: UploadFields, data: bytes, filename: str | None
):
    session = db_session()
    name, version = _target(session, company, fields)
    # The parent is found before anything is stored: an unknown one refuses the upload.
    parent = None
    if fields.parent_uuid:
        parent = parent_by_uuid(session, company, fields.parent_uuid)
    elif fields.parent_name:
        parent = parent_by_name(session, company, fields.parent_name, fields.parent_version)

    try:
        result = services.ingest(
            session,
            Actor(token_id=token.id),
            company,
            name,
            data,
            source="dependency-track",
            filename=filename,
            project_version=version,
            limits=services.upload_limits(),
        )
    except SbomError as exc:
        if exc.code == "too_large":
            raise ApiError(413, exc.code, exc.message, exc.details) from None
        return _invalid_bom(exc)
    place_upload(session, result, parent=parent, tags=fields.tags, is_latest=fields.is_latest)
    bom_token = services.bom_token_for(session, company, result.sbom)
    return jsonify(token=bom_token.uuid)


def _invalid_bom(exc: SbomError) -> Response:
    """Dependency-Track's answer for a BOM it cannot accept, with Tributary's error."""
    return _problem_response(400, "The uploaded BOM is invalid", exc.to_dict())


@bp.put("/bom")
def put_bom():
    token, company = _company(WRITE)
    body = request.get_data()
    # The envelope gets the reader's own nesting and character rules (its size is bounded
    # by the request limit already).
    limits = replace(services.upload_limits(), max_bytes=max(len(body), 1))
    try:
        payload = read_json(body, limits=limits)
    except SbomError as exc:
        raise ApiError(400, exc.code, f"The request body: {exc.message}", exc.details) from None
    if not isinstance(payload, dict):
        raise ApiError(
            400,
            "invalid_request",
            "Send a JSON object: {project | projectName (+ projectVersion, autoCreate), bom}.",
        )
    encoded = payload.get("bom")
    if not isinstance(encoded, str) or not encoded.strip():
        raise ApiError(400, "invalid_request", "bom is missing: send the BOM base64-encoded.")
    try:
        data = base64.b64decode("".join(encoded.split()), validate=True)
    except (binascii.Error, ValueError):
        raise ApiError(
            400, "invalid_base64", "bom is not valid base64: send the BOM base64-encoded."
        ) from None
    tags = payload.get("projectTags")
    fields = UploadFields.read(payload, tag_names(tags) if tags is not None else None)
    return _ingest(token, company, fields, data, None)


@bp.post("/bom")
def post_bom():
    token, company = _company(WRITE)
    form = request.form
    part = request.files.get("bom")
    if part is not None:
        data, filename = part.read(), part.filename or None
    elif form.get("bom"):
        # A text field carries the BOM itself (not base64), as Dependency-Track reads it.
        data, filename = form["bom"].encode("utf-8"), None
    else:
        raise ApiError(
            400, "invalid_request", "bom is missing: send the BOM as the multipart part 'bom'."
        )
    tags = _text(form.get("projectTags"), "projectTags")
    fields = UploadFields.read(form, tag_names(tags.split(",")) if tags else None)
    return _ingest(token, company, fields, data, filename)


def _processing(token_uuid: str):
    _token(*READ)
    parse_uuid(token_uuid, "The token")
    # Uploads are stored before they are answered: no token is ever still processing.
    # As in Dependency-Track, false does not say whether the token exists.
    return jsonify(processing=False)


@bp.get("/bom/token/<token_uuid>")
def bom_token(token_uuid: str):
    return _processing(token_uuid)


@bp.get("/event/token/<token_uuid>")
def event_token(token_uuid: str):
    return _processing(token_uuid)


# Build gates -------------------------------------------------------------------------------

# ProjectMetrics' counters, every one zero: Tributary audits neither vulnerabilities nor
# policies, so a gate on them has nothing to stop.
_METRIC_COUNTERS = (
    "critical",
    "high",
    "medium",
    "low",
    "unassigned",
    "kev",
    "vulnerabilities",
    "vulnerableComponents",
    "suppressed",
    "findingsTotal",
    "findingsAudited",
    "findingsUnaudited",
    "policyViolationsFail",
    "policyViolationsWarn",
    "policyViolationsInfo",
    "policyViolationsTotal",
    "policyViolationsAudited",
    "policyViolationsUnaudited",
    "policyViolationsSecurityTotal",
    "policyViolationsSecurityAudited",
    "policyViolationsSecurityUnaudited",
    "policyViolationsLicenseTotal",
    "policyViolationsLicenseAudited",
    "policyViolationsLicenseUnaudited",
    "policyViolationsOperationalTotal",
    "policyViolationsOperationalAudited",
    "policyViolationsOperationalUnaudited",
)


@bp.get("/metrics/project/<project_uuid>/current")
def current_metrics(project_uuid: str):
    _, company = _company(*READ)
    session = db_session()
    project = find_project(session, company, project_uuid)
    sbom = session.get(Sbom, project.version.sbom_id) if project.version.sbom_id else None
    now = epoch_ms(utcnow())
    return jsonify(
        {
            **dict.fromkeys(_METRIC_COUNTERS, 0),
            "components": sbom.component_count if sbom else 0,
            "inheritedRiskScore": 0.0,
            "firstOccurrence": now,
            "lastOccurrence": now,
        }
    )


def _empty_list(project_uuid: str) -> Response:
    _, company = _company(*READ)
    find_project(db_session(), company, project_uuid)
    response = jsonify([])
    response.headers["X-Total-Count"] = "0"
    return response


@bp.get("/finding/project/<project_uuid>")
def findings(project_uuid: str):
    return _empty_list(project_uuid)


@bp.get("/violation/project/<project_uuid>")
def violations(project_uuid: str):
    return _empty_list(project_uuid)
