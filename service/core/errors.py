"""Errors as people and programs expect them: a page for browsers, JSON under /api/."""

from __future__ import annotations

import json
import logging
from typing import Any

from flask import Response, abort, g, jsonify, make_response, render_template, request
from flask_limiter.errors import RateLimitExceeded
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import (
    HTTPException,
    InternalServerError,
    MethodNotAllowed,
    ServiceUnavailable,
)
from werkzeug.http import HTTP_STATUS_CODES

from service.core.ratelimit import retry_after

log = logging.getLogger(__name__)

MESSAGES = {
    400: "The request could not be understood.",
    403: "You do not have permission to do that.",
    404: "There is nothing here, or you do not have access to it.",
    405: "That method is not allowed here.",
    413: "The upload is larger than this server accepts.",
    429: "Too many requests: wait a moment (see Retry-After) and try again.",
    500: "Something went wrong on our side. It has been logged.",
    503: "The service is not ready.",
}
CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    429: "rate_limited",
    500: "internal_error",
    503: "unavailable",
}


class ApiError(HTTPException):
    """An API failure with a machine-readable code and details."""

    def __init__(self, status: int, code: str, message: str, details: Any = None) -> None:
        super().__init__(description=message)
        self.code = status
        self.error_code = code
        self.details = details or {}


def refuse_bad_parameters(problems: dict[str, str]) -> None:
    """An API answers 400 naming the first bad query parameter, with all of them listed
    (`problems` as a QueryForm gives them)."""
    if problems:
        name, message = next(iter(problems.items()))
        raise ApiError(400, "invalid_parameter", message, {"field": name, "errors": problems})


def wants_json() -> bool:
    return request.path.startswith("/api/")


def api_error_body(code: str, message: str, details: Any = None) -> dict:
    return {"error": {"code": code, "message": message, "details": details or {}}}


# Answers a generic HTTP client (a CI job's retry logic, a proxy) should understand: on the
# API they are RFC 9457 problem documents, which also carry the API's own error object.
PROBLEM_STATUSES = frozenset({429, 503})
DATABASE_ERRORS = (OperationalError, InterfaceError, PoolTimeout)
DATABASE_UNAVAILABLE = "The database cannot be reached right now. Try again in a moment."
DATABASE_RETRY_SECONDS = 5


def error_response(error: Exception) -> Response:
    if not isinstance(error, HTTPException):
        error = InternalServerError()
    status = error.code or 500
    if status >= 500:
        # The failed request's transaction may be aborted (PostgreSQL refuses every query
        # after an error until it is rolled back), and the page itself queries.
        _roll_back_request()
    description = error.description if error.description else MESSAGES.get(status, "")
    if status == 413:
        description = MESSAGES[413] + f" The limit is {_limit_text()}."
    if isinstance(error, RateLimitExceeded):
        description = MESSAGES[429] + f" The limit is {description}."
    if wants_json():
        code = getattr(error, "error_code", CODES.get(status, "error"))
        body = api_error_body(code, description, getattr(error, "details", None))
        if status in PROBLEM_STATUSES:
            problem = {"title": HTTP_STATUS_CODES[status], "status": status, "detail": description}
            response = Response(
                json.dumps({**problem, **body}), status, mimetype="application/problem+json"
            )
        else:
            response = make_response(jsonify(body), status)
    else:
        response = _error_page(status, description, type(error).description)
    if isinstance(error, RateLimitExceeded):
        response.headers["Retry-After"] = str(retry_after())
    if isinstance(error, MethodNotAllowed) and error.valid_methods:
        response.headers["Allow"] = ", ".join(error.valid_methods)  # as RFC 9110 asks of a 405
    return response


def _error_page(status: int, description: str, default: str | None) -> Response:
    # Werkzeug's default descriptions talk to developers; show ours instead.
    if description == default:
        description = MESSAGES.get(status, description)
    try:
        return make_response(
            render_template("error.html", status=status, message=description), status
        )
    except Exception:  # the page needs the database; the answer must not
        log.exception("error page for %s could not be rendered", status)
        return Response(f"{status}: {description}\n", status, mimetype="text/plain")


def is_database_unavailable(error: Exception) -> bool:
    """Whether the database could not be reached, rather than refused a statement."""
    if isinstance(error, PoolTimeout) or getattr(error, "connection_invalidated", False):
        return True
    if type(getattr(error, "orig", None)).__module__.startswith("sqlite3"):
        # SQLite names a missing table an OperationalError too; only these are outages.
        return any(part in str(error) for part in _SQLITE_OUTAGES)
    # The PostgreSQL driver's OperationalError and InterfaceError: the server refused or
    # dropped the connection (restart, failover, a terminated backend).
    return True


_SQLITE_OUTAGES = ("database is locked", "unable to open database file", "disk I/O error")


def database_error(error: Exception) -> Response:
    """A lost, refused or exhausted database connection: 503 and the app's own page (drawn
    without the database), nothing of the request kept, and a hint when to try again.
    Any other database error is a bug: 500, logged."""
    if not is_database_unavailable(error):
        log.error("unhandled database error", exc_info=error)
        return error_response(InternalServerError())
    log.warning("database unavailable: %s: %s", type(error).__name__, error)
    g.database_unavailable = True
    response = error_response(ServiceUnavailable(description=DATABASE_UNAVAILABLE))
    response.headers["Retry-After"] = str(DATABASE_RETRY_SECONDS)
    return response


def _roll_back_request() -> None:
    session = g.get("db_session")
    if session is None:
        return
    try:
        session.rollback()
    except DATABASE_ERRORS:  # the connection is gone: its transaction went with it
        session.invalidate()


def refuse_nul_input() -> None:
    """Answer 400 for a NUL character in a path part, the query or a form field or file
    name: no name, slug or version holds one, and PostgreSQL refuses to store them."""

    def refuse(where: str) -> None:
        abort(400, description=f"{where} contains a NUL character; remove it and try again.")

    for name, value in (request.view_args or {}).items():
        if isinstance(value, str) and "\x00" in value:
            refuse(f"The path part {name}")
    for name, value in request.args.items(multi=True):
        if "\x00" in name or "\x00" in value:
            refuse(f"The query parameter {name!r}")
    if request.mimetype in ("multipart/form-data", "application/x-www-form-urlencoded"):
        if request.mimetype != "multipart/form-data":
            # Keep the body readable as it came: `curl --data-binary` labels an SBOM so.
            request.get_data(cache=True)
        for name, value in request.form.items(multi=True):
            # A malformed part can be read with no name or no value (None): nothing to
            # check there.
            if any(isinstance(part, str) and "\x00" in part for part in (name, value)):
                refuse(f"The form field {name!r}")
        for name, upload in request.files.items(multi=True):
            if "\x00" in (upload.filename or ""):
                refuse(f"The file name of {name!r}")


# The largest id a database row can have (a signed 64-bit integer on both databases).
MAX_ROW_ID = 2**63 - 1


def refuse_impossible_ids() -> None:
    """Answer 404 for a number in the path no row can have, before a driver refuses it."""
    for value in (request.view_args or {}).values():
        if isinstance(value, int) and value > MAX_ROW_ID:
            abort(404)


def _limit_text() -> str:
    from flask import current_app

    return size_text(current_app.config.get("MAX_CONTENT_LENGTH") or 0)


def size_text(size: int) -> str:
    """A byte count for people: MB from 1 MiB up, KB below (a small limit is not "0 MB")."""
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.0f} MB"
    if size >= 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size} bytes"
