"""JSON text to Python data, with positions in errors and a nesting limit."""

from __future__ import annotations

import json
import re
import sys
from itertools import accumulate
from typing import Any

from .decode import Payload, position_of
from .model import ParseLimits, SbomError

# Brackets become +1/-1 as signed bytes; everything but brackets and quotes is dropped.
_BRACKET_STEPS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[{]}")
_NOT_STRUCTURE = bytes(b for b in range(256) if b not in b'[{]}"')


def load_json(payload: Payload, limits: ParseLimits) -> Any:
    """Parse the payload as JSON and enforce max_nesting."""
    text = payload.text()
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SbomError(
            "invalid_json",
            f"Invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}",
            {"line": exc.lineno, "column": exc.colno, "reason": exc.msg},
        ) from None
    except RecursionError:
        raise _too_deep(None, limits) from None
    except ValueError:  # an integer longer than Python converts (sys.get_int_max_str_digits)
        limit = sys.get_int_max_str_digits()
        found = re.search(rf"\d{{{limit + 1},}}", text)
        line, column = position_of(text, found.start() if found else 0)
        raise SbomError(
            "invalid_json",
            f"Invalid JSON at line {line}, column {column}: a number with more than {limit} digits",
            {"line": line, "column": column, "reason": "number too long"},
        ) from None
    depth = json_depth(payload.utf8())
    if depth > limits.max_nesting:
        raise _too_deep(depth, limits)
    return data


def json_depth(document: bytes) -> int:
    """Return the deepest container nesting of a *valid* JSON document.

    Runs at C speed, without a Python loop over characters: escaped backslashes and
    quotes are dropped, then everything but quotes and brackets. In what remains,
    removing any adjacent pair of quotes changes no bracket's inside/outside-a-string
    parity, so `""` pairs (strings without brackets: nearly all) go at once; the rare
    strings that hold brackets are cut out by splitting on quotes. The remaining
    brackets are summed as +1/-1. Only valid JSON guarantees that quotes pair up, so
    call this after json.loads succeeded.
    """
    if b"\\" in document:
        document = document.replace(b"\\\\", b"").replace(b'\\"', b"")
    structure = document.translate(None, _NOT_STRUCTURE).replace(b'""', b"")
    if b'"' in structure:
        structure = b"".join(structure.split(b'"')[::2])
    steps = structure.translate(_BRACKET_STEPS, _NOT_BRACKETS)
    return max(accumulate(memoryview(steps).cast("b")), default=0)


def _too_deep(depth: int | None, limits: ParseLimits) -> SbomError:
    found = f"{depth} levels" if depth is not None else "far more"
    return SbomError(
        "too_deep",
        f"The JSON document nests too deeply: the limit is {limits.max_nesting} levels "
        f"of arrays/objects, found {found}",
        {"limit": limits.max_nesting, "depth": depth},
    )
