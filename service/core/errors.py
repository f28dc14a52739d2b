"""Errors as people and programs expect them: a page for browsers, JSON under /api/."""

from __future__ import annotations

import logging
from typing import Any

from flask import Response, abort, g, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError

log = logging.getLogger(__name__)

MESSAGES = {
    400: "The request could not be understood.",
    403: "You do not have permission to do that.",
    404: "There is nothing here, or you do not have access to it.",
    405: "That method is not allowed here.",
    413: "The upload is larger than this server accepts.",
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


def wants_json() -> bool:
    return request.path.startswith("/api/")


def api_error_body(code: str, message: str, details: Any = None) -> dict:
    return {"error": {"code": code, "message": message, "details": details or {}}}


def error_response(error: Exception):
    if not isinstance(error, HTTPException):
        error = InternalServerError()
    status = error.code or 500
    if status >= 500:
        # The failed request's transaction may be aborted (PostgreSQL refuses every query
        # after an error until it is rolled back), and the page itself queries.
        session = g.get("db_session")
        if session is not None:
            session.rollback()
    description = error.description if error.description else MESSAGES.get(status, "")
    if status == 413:
        description = MESSAGES[413] + f" The limit is {_limit_text()}."
    if wants_json():
        code = getattr(error, "error_code", CODES.get(status, "error"))
        details = getattr(error, "details", None)
        return jsonify(api_error_body(code, description, details)), status
    # Werkzeug's default descriptions talk to developers; show ours instead.
    if description == type(error).description:
        description = MESSAGES.get(status, description)
    try:
        return render_template("error.html", status=status, message=description), status
    except Exception:  # the page needs the database; the answer must not
        log.exception("error page for %s could not be rendered", status)
        return Response(f"{status}: {description}\n", status, mimetype="text/plain")


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
            if "\x00" in name or "\x00" in value:
                refuse(f"The form field {name!r}")
        for name, upload in request.files.items(multi=True):
            if "\x00" in (upload.filename or ""):
                refuse(f"The file name of {name!r}")


def page_arg(name: str = "page", highest: int = 100_000) -> int:
    """A page number from the query: 1 when missing or unreadable, at most `highest`."""
    return min(max(1, request.args.get(name, 1, type=int) or 1), highest)


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
