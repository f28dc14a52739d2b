"""Reading JSON input for the database-free commands (allocate, risk score, propose).

Their errors are one JSON object on stdout, `{"error": {"code", "message", "details"}}`,
with exit status 1, so scripts can read them as they read the API's errors.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from typing import Any, NoReturn

import click


def fail(message: str, details: Mapping[str, Any], code: str = "invalid_input") -> NoReturn:
    error = {"error": {"code": code, "message": message, "details": dict(details)}}
    click.echo(json.dumps(error, ensure_ascii=False))
    sys.exit(1)


def read_text(path: str) -> str:
    """The text of a file ('-' for standard input), or a JSON error naming the problem."""
    if path == "-":
        return sys.stdin.read()
    try:
        with open(path, encoding="utf-8-sig") as handle:
            return handle.read()
    except OSError as exc:
        fail(f"input: cannot read {path}: {exc.strerror or exc}", {"field": "input"})
    except UnicodeDecodeError:
        fail(f"input: {path} is not UTF-8 text", {"field": "input"})


def parse_json(text: str) -> Any:
    """JSON from text, or a JSON error with the line and column where it breaks."""
    try:
        return json.loads(text.removeprefix("\ufeff"))
    except json.JSONDecodeError as exc:
        fail(
            f"input: invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}",
            {"field": "input", "line": exc.lineno, "column": exc.colno},
        )
