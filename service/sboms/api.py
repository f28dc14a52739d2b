"""SBOM uploads over HTTP: Tributary's JSON API.

Tributary's own API (bearer token, under /api/v1/companies/{slug}):

- `POST .../products/{product}/sboms` (scope sbom:write): the SBOM as the raw body (any
  content type) or as the file part of a multipart form; `?version=` records the release
  it describes, `?filename=` a file name. 201 with the stored SBOM's summary and its diff
  against the product's previous upload; the same bytes again for the same product
  answer 200 with the same body (`"created": false`) and store nothing.
- `GET .../products` and `GET .../products/{product}/sboms` (scope read).

The Dependency-Track compatible endpoints are in `service.sboms.dtrack`.
"""

from __future__ import annotations

from flask import Blueprint, g, jsonify, request

from service.api.auth import token_actor, token_required
from service.companies.models import Company
from service.core.errors import ApiError, refuse_bad_parameters
from service.core.forms import QueryForm, WholeNumber
from service.db import db_session
from service.sboms import services
from service.sboms.parsing import SbomError

bp = Blueprint("sboms_api", __name__, url_prefix="/api/v1")


class HistoryArgs(QueryForm):
    limit = WholeNumber(
        default=100, low=1, high=1000, message="expected a whole number from 1 to 1000, got {raw!r}"
    )


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
    args = HistoryArgs(request.args)
    refuse_bad_parameters(args.problems)
    history = services.product_history(db_session(), g.company, found, limit=args.limit.data)
    return jsonify(
        product=services.product_json(found), sboms=[services.sbom_json(s) for s in history]
    )


@bp.post("/companies/<slug>/products/<path:product>/sboms")
@token_required("sbom:write")
def upload_sbom(slug: str, product: str):
    data, filename = _uploaded_document()
    try:
        result = services.ingest(
            db_session(),
            token_actor(),
            g.company,
            product,
            data,
            source="api",
            filename=filename,
            project_version=_field("version"),
            limits=services.upload_limits(),
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
