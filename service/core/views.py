"""Health checks, and the gate that keeps an unmigrated app from serving."""

from __future__ import annotations

from flask import Blueprint, abort, jsonify
from sqlalchemy import text

from service.db import db_session, get_db

bp = Blueprint("core", __name__)
_UNGATED = {"core.healthz", "core.readyz", "static"}


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


def migrations_gate():
    """Refuse to serve on a database behind the code's migrations (checked until it passes)."""
    from flask import current_app, request

    if request.endpoint in _UNGATED or current_app.extensions.get("tributary.migrated"):
        return None
    database = get_db()
    if database.is_migrated():
        current_app.extensions["tributary.migrated"] = True
        return None
    abort(
        503,
        description=(
            "The database schema is behind this version of Tributary "
            f"(at {database.current_revision() or 'an empty database'}, needs "
            f"{database.head_revision()}). Run `tributary db upgrade` and reload."
        ),
    )
