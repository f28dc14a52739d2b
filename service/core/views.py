"""Health checks, and the gate that keeps an unmigrated app from serving."""

from __future__ import annotations

import hmac

from flask import Blueprint, Response, abort, jsonify, request
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4 as CONTENT_TYPE
from sqlalchemy import text

from service.core.metrics import exposition
from service.core.services import get_settings
from service.db import db_session, get_db

bp = Blueprint("core", __name__)
_UNGATED = {"core.healthz", "core.readyz", "core.metrics", "static"}
_MIGRATED = "tributary.migrated"  # in app.extensions once the schema check has passed


@bp.get("/healthz")
def healthz():
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    database = get_db()
    try:
        # On the request's one pooled connection: a probe must not take a second one.
        connection = db_session().connection()
        connection.execute(text("SELECT 1"))
        current, head = database.current_revision(connection), database.head_revision()
    except Exception as exc:  # any driver error means "not ready", with its class named
        return jsonify(status="unavailable", database=f"unreachable ({type(exc).__name__})"), 503
    if current != head:
        return jsonify(
            status="unavailable",
            database=f"schema at {current or 'nothing'}, code expects {head}: "
            "run `tributary db upgrade`",
        ), 503
    return jsonify(status="ok", database="ok", revision=current)


@bp.get("/metrics")
def metrics():
    """Prometheus metrics, for the scraper holding the token (there is nothing here
    without one configured)."""
    expected = get_settings().metrics_token
    if not expected:
        abort(404)
    scheme, _, offered = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(offered.strip(), expected):
        return Response(
            "Send the metrics token as 'Authorization: Bearer <token>'.\n",
            401,
            {"WWW-Authenticate": 'Bearer realm="metrics"'},
            mimetype="text/plain",
        )
    return Response(exposition(db_session()), mimetype=CONTENT_TYPE)


def migrations_gate():
    """Refuse to serve on a database behind the code's migrations (checked until it passes)."""
    from flask import current_app, request

    if request.endpoint in _UNGATED or current_app.extensions.get(_MIGRATED):
        return None
    database = get_db()
    if database.is_migrated():
        current_app.extensions[_MIGRATED] = True
        return None
    abort(
        503,
        description=(
            "The database schema is behind this version of Tributary "
            f"(at {database.current_revision() or 'an empty database'}, needs "
            f"{database.head_revision()}). Run `tributary db upgrade` and reload."
        ),
    )
