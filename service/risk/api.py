"""Risk over the JSON API (scope `read`), the same data as the pages:

- `GET /api/v1/companies/{slug}/dependencies`: the dependency table; the same filters,
  sort and paging as the page, as query parameters (see service.risk.table). A bad
  parameter answers 400 naming it.
- `GET /api/v1/companies/{slug}/risk`: exposure, pledge coverage with its reason, the
  exposure history and the top ten unfunded risks.
- `GET /api/v1/companies/{slug}/risk/projects/{project_id}`: a project's score, coverage,
  criticality, breakdown and explanation. 404 when the company never depended on it.

A token only ever sees its own company: any other slug answers 404.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, jsonify, request

from service.api.auth import token_required
from service.core.errors import ApiError, refuse_bad_parameters
from service.db import db_session
from service.risk import services
from service.risk.explain import explain
from service.risk.exposure import DECAY, NEUTRAL_RISK, UNKNOWN_DEPTH
from service.risk.table import dependency_table, parse_query

bp = Blueprint("risk_api", __name__, url_prefix="/api/v1")

HISTORY_DAYS = 366


def _round(value: float | None, places: int = 2) -> float | None:
    return None if value is None else round(value, places)


@bp.get("/companies/<slug>/dependencies")
@token_required("read")
def dependencies(slug: str):
    query, errors = parse_query(request.args)
    refuse_bad_parameters(errors)
    table = dependency_table(db_session(), g.company.id, query)
    return jsonify(
        total=table.total,
        matching=table.matching,
        page=table.query.page,
        per_page=table.query.per_page,
        pages=table.pages,
        sort=table.query.sort,
        order=table.query.order,
        filters=table.query.filters,
        items=[row.to_dict() for row in table.rows],
    )


@bp.get("/companies/<slug>/risk")
@token_required("read")
def exposure(slug: str):
    session = db_session()
    history = services.exposure_history(session, g.company.id, limit=HISTORY_DAYS)
    latest = history[-1] if history else None
    coverage = services.current_coverage(session, g.company)
    return jsonify(
        computed_on=latest.taken_on.isoformat() if latest else None,
        exposure=_round(latest.exposure) if latest else None,
        unfunded_exposure=_round(latest.unfunded_exposure) if latest else None,
        projects=latest.projects if latest else 0,
        unscored_projects=latest.unscored_projects if latest else 0,
        coverage={
            "share": coverage.share,
            "covered_exposure": _round(coverage.covered),
            "covered_projects": coverage.covered_projects,
            "reason": coverage.reason,
        },
        definition={
            "dependence": "sum over products using the project of decay^(depth-1)",
            "decay": float(DECAY),
            "unknown_depth": UNKNOWN_DEPTH,
            "exposure": "sum over projects of dependence x risk (0..100)",
            "unscored_risk": NEUTRAL_RISK,
        },
        history=[
            {
                "date": row.taken_on.isoformat(),
                "exposure": _round(row.exposure),
                "unfunded_exposure": _round(row.unfunded_exposure),
                "coverage_share": row.coverage_share,
                "projects": row.projects,
            }
            for row in history
        ],
        top_unfunded=[
            {
                "project_id": row.project_id,
                "project": row.key,
                "risk": row.score,
                "dependence": _round(row.dependence, 4),
                "exposure": _round(row.exposure),
            }
            for row in services.top_unfunded(session, g.company.id)
        ],
    )


@bp.get("/companies/<slug>/risk/projects/<int:project_id>")
@token_required("read")
def project(slug: str, project_id: int):
    session = db_session()
    found = services.project_risk(session, g.company.id, project_id)
    if found is None:
        raise ApiError(
            404, "not_found", f"No risk score for project {project_id} in {g.company.slug}."
        )
    snapshot = found.snapshot
    context = {"products_total": services.products_total(session, g.company.id)}
    body: dict[str, Any] = {
        "project_id": found.project.id,
        "project": found.project.key,
        "in_inventory": found.current is not None,
        "computed_on": snapshot.taken_on.isoformat(),
        "score": snapshot.score,
        "coverage": snapshot.coverage,
        "criticality": snapshot.criticality,
        "dependence": _round(snapshot.dependence, 4),
        "breakdown": snapshot.breakdown,
        "missing": snapshot.missing,
        "explanation": explain(snapshot.breakdown, context),
        "history": [
            {"date": row.taken_on.isoformat(), "score": row.score, "coverage": row.coverage}
            for row in found.history
        ],
    }
    return jsonify(body)
