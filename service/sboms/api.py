"""SBOM uploads over HTTP: Tributary's JSON API and Dependency-Track compatible endpoints.

Tributary's own API (bearer token, under /api/v1/companies/{slug}):

- `POST .../products/{product}/sboms` (scope sbom:write): the SBOM as the raw body (any
  content type) or as the file part of a multipart form; `?version=` records the release
  it describes, `?filename=` a file name. 201 with the stored SBOM's summary and its diff
  against the product's previous upload; the same bytes again for the same product
  answer 200 with the same body (`"created": false`) and store nothing.
- `GET .../products` and `GET .../products/{product}/sboms` (scope read).

Dependency-Track's BOM API, so CI pipelines and their upload tools only change URL and key
(`X-Api-Key`: a Tributary token with scope sbom:write):

- `PUT /api/v1/bom`: JSON `{"project": uuid}` or `{"projectName", "projectVersion"?,
  "autoCreate"?}` plus `"bom"` (base64).
- `POST /api/v1/bom`: multipart with the same fields; `bom` as a file part or text field.
- `GET /api/v1/bom/token/{uuid}`, `GET /api/v1/event/token/{uuid}`: `{"processing": false}`
  (Tributary stores an upload before it answers, so nothing is ever still processing).

Each answers as Dependency-Track does: 200 `{"token": uuid}`; 400 with an RFC 9457 problem
(`application/problem+json`, title "The uploaded BOM is invalid") for a BOM that cannot be
read; 401 for a missing or unknown key; 404 for an unknown project, or an unknown
`projectName` without `autoCreate`. `projectName` names the product; `projectVersion` is
recorded with the SBOM (Tributary keeps one product per name, its versions are its history).
Fields Dependency-Track also accepts (parent*, projectTags, isLatest) are ignored.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid as uuid_module
from dataclasses import replace
from typing import Any

from flask import Blueprint, Response, g, jsonify, request
from sqlmodel import Session

from service.api.auth import bearer_token, token_actor, token_required
from service.audit.services import Actor
from service.companies.models import ApiToken, Company
from service.companies.services import authenticate_token
from service.core.errors import ApiError
from service.db import commit_request, db_session
from service.sboms import services
from service.sboms.models import BomToken
from service.sboms.parsing import SbomError, read_json
from service.sboms.views import upload_limits

bp = Blueprint("sboms_api", __name__, url_prefix="/api/v1")

HISTORY_LIMIT = 100


def _product_or_404(company: Company, name: str):
    product = services.find_product(db_session(), company, name.strip())
    if product is None:
        raise ApiError(404, "not_found", f"No product {name!r} in {company.slug}.")
    return product


def _sbom_error(exc: SbomError) -> ApiError:
    status = 413 if exc.code == "too_large" else 400
    return ApiError(status, exc.code, exc.message, exc.details)


# Tributary's API ------------------------------------------------------------------------------


@bp.get("/companies/<slug>/products")
@token_required("read")
def list_products(slug: str):
    rows = services.products_of(db_session(), g.company)
    return jsonify(
        products=[
            {
                **services.product_json(row.product),
                "sboms": row.sbom_count,
                "latest_sbom": services.sbom_json(row.latest) if row.latest else None,
            }
            for row in rows
        ]
    )


@bp.get("/companies/<slug>/products/<path:product>/sboms")
@token_required("read")
def list_sboms(slug: str, product: str):
    found = _product_or_404(g.company, product)
    limit = max(1, min(request.args.get("limit", HISTORY_LIMIT, type=int), 1000))
    history = services.product_history(db_session(), g.company, found, limit=limit)
    return jsonify(
        product=services.product_json(found), sboms=[services.sbom_json(s) for s in history]
    )


@bp.post("/companies/<slug>/products/<path:product>/sboms")
@token_required("sbom:write")
def upload_sbom(slug: str, product: str):
    data, filename = _uploaded_document()
    try:
        result = commit_request(
            lambda session: services.ingest(
                session,
                token_actor(),
                g.company,
                product,
                data,
                source="api",
                filename=filename,
                project_version=_field("version"),
                limits=upload_limits(),
            )
        )
    except SbomError as exc:
        raise _sbom_error(exc) from None
    body = {
        **services.sbom_json(result.sbom),
        "created": result.created,
        "product": services.product_json(result.product),
    }
    return jsonify(body), 201 if result.created else 200


def _field(name: str) -> str | None:
    value = request.args.get(name)
    if value is None and request.mimetype == "multipart/form-data":
        value = request.form.get(name)
    value = (value or "").strip()
    return value or None


def _uploaded_document() -> tuple[bytes, str | None]:
    """The SBOM from a multipart file part, or else the raw request body."""
    if request.mimetype == "multipart/form-data":
        files = [f for f in request.files.values() if f]
        preferred = request.files.get("file") or request.files.get("bom")
        storage = preferred or (files[0] if files else None)
        if storage is None:
            text = request.form.get("bom")
            if text:
                return text.encode("utf-8"), _field("filename")
            raise ApiError(
                400,
                "missing_file",
                "The multipart form has no file: send the SBOM as the part named 'file'.",
            )
        return storage.read(), _field("filename") or storage.filename or None
    return request.get_data(cache=False), _field("filename")


# Dependency-Track ------------------------------------------------------------------------------

DT_SCOPE = "sbom:write"


def _dt_token(*scopes: str) -> ApiToken:
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
    session.commit()
    return token


def _truthy(value: Any) -> bool:
    # Dependency-Track takes a JSON boolean, and "true" (any case) in multipart forms.
    if isinstance(value, bool):
        return value
    return isinstance(value, str) and value.strip().lower() == "true"


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or "\x00" in value:
        raise ApiError(
            400,
            "invalid_request",
            "project, projectName and projectVersion are text without NUL characters.",
        )
    return value.strip() or None


def _dt_product_name(
    company: Company, project: str | None, project_name: str | None, auto_create: bool
) -> str:
    session = db_session()
    if project:
        try:
            wanted = str(uuid_module.UUID(project))
        except ValueError:
            raise ApiError(
                400, "invalid_request", f"project must be a UUID, got {project[:60]!r}."
            ) from None
        product = services.product_by_uuid(session, company, wanted)
        if product is None:
            raise ApiError(404, "project_not_found", "The project could not be found.")
        return product.name
    if not project_name:
        raise ApiError(
            400,
            "invalid_request",
            "Send project (the product UUID shown on its Tributary page) or projectName.",
        )
    try:
        name = services.normalize_product_name(project_name)
    except SbomError as exc:
        raise ApiError(400, exc.code, exc.message, exc.details) from None
    if services.find_product(session, company, name) is None and not auto_create:
        raise ApiError(
            404,
            "project_not_found",
            "The project could not be found. Send autoCreate=true to create it.",
            {"projectName": name},
        )
    return name


def _dt_ingest(
    token: ApiToken,
    *,
    project: str | None,
    project_name: str | None,
    project_version: str | None,
    auto_create: bool,
    data: bytes,
    filename: str | None,
):
    company = db_session().get(Company, token.company_id)
    name = _dt_product_name(company, project, project_name, auto_create)

    def store(session: Session) -> BomToken:
        result = services.ingest(
            session,
            Actor(token_id=token.id),
            company,
            name,
            data,
            source="dependency-track",
            filename=filename,
            project_version=project_version,
            limits=upload_limits(),
        )
        return services.bom_token_for(session, company, result.sbom)

    try:
        bom_token = commit_request(store)
    except SbomError as exc:
        if exc.code == "too_large":
            raise _sbom_error(exc) from None
        return _invalid_bom(exc)
    return jsonify(token=bom_token.uuid)


def _invalid_bom(exc: SbomError) -> Response:
    """Dependency-Track's answer for a BOM it cannot accept, plus Tributary's error."""
    body = {
        "status": 400,
        "title": "The uploaded BOM is invalid",
        "detail": exc.message,
        "errors": [exc.message],
        "error": exc.to_dict(),
    }
    return Response(json.dumps(body), 400, mimetype="application/problem+json")


@bp.put("/bom")
def dt_put_bom():
    token = _dt_token(DT_SCOPE)
    body = request.get_data()
    # The envelope gets the reader's own nesting and character rules (its size is bounded
    # by the request limit already).
    limits = replace(upload_limits(), max_bytes=max(len(body), 1))
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
        raise ApiError(400, "invalid_base64", "bom is not valid base64.") from None
    return _dt_ingest(
        token,
        project=_text(payload.get("project")),
        project_name=_text(payload.get("projectName")),
        project_version=_text(payload.get("projectVersion")),
        auto_create=_truthy(payload.get("autoCreate")),
        data=data,
        filename=None,
    )


@bp.post("/bom")
def dt_post_bom():
    token = _dt_token(DT_SCOPE)
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
    return _dt_ingest(
        token,
        project=_text(form.get("project")),
        project_name=_text(form.get("projectName")),
        project_version=_text(form.get("projectVersion")),
        auto_create=_truthy(form.get("autoCreate")),
        data=data,
        filename=filename,
    )


def _processing(token_uuid: str):
    _dt_token(DT_SCOPE, "read")
    try:
        uuid_module.UUID(token_uuid)
    except ValueError:
        raise ApiError(400, "invalid_request", "The token must be a UUID.") from None
    # Uploads are stored before they are answered: no token is ever still processing.
    # As in Dependency-Track, false does not say whether the token exists.
    return jsonify(processing=False)


@bp.get("/bom/token/<token_uuid>")
def dt_bom_token(token_uuid: str):
    return _processing(token_uuid)


@bp.get("/event/token/<token_uuid>")
def dt_event_token(token_uuid: str):
    return _processing(token_uuid)
