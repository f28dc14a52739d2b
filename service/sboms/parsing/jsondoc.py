"""JSON text to Python data, with positions in errors and a nesting limit.

Documents are decoded by msgspec, several times faster than the standard library on
the small and medium documents most uploads are. Where it succeeds it returns the same
values (integers of any size included; a property test compares the two); it refuses a
few things the standard parser reads (lone surrogate escapes such as `"\\ud800"`, NaN and
Infinity, numbers beyond the float range) and everything it refuses goes to the standard
parser, which decides, so what is readable and what each error says do not change.
"""

from __future__ import annotations

import json
import re
import sys
from itertools import accumulate
from typing import Any

import msgspec

from .decode import Payload, position_of
from .model import ParseLimits, SbomError

_DECODER = msgspec.json.Decoder()
# Brackets become "(" and ")", quotes stay, everything else is dropped.
_PARENS = bytes.maketrans(b"[{]}", b"(())")
_NOT_STRUCTURE = bytes(b for b in range(256) if b not in b'[{]}"')
_STEPS = bytes.maketrans(b"()", b"\x01\xff")  # +1 / -1 as signed bytes


def load_json(payload: Payload, limits: ParseLimits) -> Any:
    """Parse the payload as JSON and enforce max_nesting."""
    try:
        data = _DECODER.decode(payload.raw if payload.encoding == "utf-8" else payload.text())
    except (ValueError, RecursionError):  # msgspec.DecodeError is a ValueError
        data = _load_standard(payload, limits)
    check_nesting(payload.utf8(), limits)
    return data


def _load_standard(payload: Payload, limits: ParseLimits) -> Any:
    """Parse with the standard library; its errors become SbomErrors with positions."""
    text = payload.text()
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise _decode_error(text, exc) from None
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


def _decode_error(text: str, exc: json.JSONDecodeError) -> SbomError:
    """The parser's complaint, or, when the text stops before the document does, where
    it ends: the message a cut-off upload deserves."""
    end = len(text.rstrip())
    unclosed_string = exc.msg.startswith("Unterminated string")
    if not unclosed_string and exc.pos < end:
        return SbomError(
            "invalid_json",
            f"Invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}",
            {"line": exc.lineno, "column": exc.colno, "reason": exc.msg},
        )
    line, column = position_of(text, end)
    inside = (
        f"inside a string that starts at line {exc.lineno}, column {exc.colno}"
        if unclosed_string
        else "before its arrays and objects are closed"
    )
    return SbomError(
        "invalid_json",
        f"The JSON document ends early, at line {line}, column {column} (after {end} "
        f"characters), "
        f"{inside}: the upload was cut off; send the whole file",
        {"line": line, "column": column, "reason": "truncated"},
    )


def check_nesting(document: bytes, limits: ParseLimits) -> None:
    """Refuse a *valid* JSON document whose containers nest deeper than max_nesting.

    Runs at C speed; the only Python loop visits backslash runs, which are rare. Escaped
    quotes are blanked, one translate keeps the structure (brackets as "(" and ")", and
    quotes), brackets inside strings are cut out (see `_outside_strings`) and the depth
    is peeled: a round deletes every innermost "()" pair, which lowers the depth by
    exactly one, so at most `limit` rounds show that the document is within the limit.
    """
    limit = limits.max_nesting
    structure = _outside_strings(_blank_escaped_quotes(document).translate(_PARENS, _NOT_STRUCTURE))
    for _ in range(limit):
        if not structure:
            return
        structure = structure.replace(b"()", b"")
    if structure:  # still nested after `limit` rounds: measure the rest for the message
        steps = memoryview(structure.translate(_STEPS)).cast("b")
        raise _too_deep(limit + max(accumulate(steps)), limits)


def _blank_escaped_quotes(document: bytes) -> bytes:
    """Replace each escaped quote by a space, so every quote left delimits a string.

    A quote is escaped when an odd run of backslashes precedes it (the run pairs up
    from the left). Backslashes are rare and found with a C-speed search; the document
    is copied only when it does hold an escaped quote.
    """
    copy: bytearray | None = None
    size = len(document)
    at = document.find(b"\\")
    while at != -1:
        end = at + 1
        while end < size and document[end] == 0x5C:  # the rest of the backslash run
            end += 1
        if (end - at) % 2 and end < size and document[end] == 0x22:  # an escaped quote
            if copy is None:
                copy = bytearray(document)
            copy[end] = 0x20
        at = document.find(b"\\", end + 1)
    return document if copy is None else bytes(copy)


def _outside_strings(structure: bytes) -> bytes:
    """Drop the brackets that are inside strings from quotes-and-brackets structure.

    Escape sequences must be gone already, so quotes pair up (valid JSON only), the
    first with the second and so on. When every quote has its partner next to it (the
    `""` found from the left are half the quotes), no string holds a bracket: the quotes
    alone go, at C speed (a third of the time of cutting the pairs). Otherwise, removing
    any adjacent pair of quotes changes no bracket's inside/outside-a-string parity, so
    `""` pairs go at once and the strings that hold brackets are cut out by splitting on
    quotes.
    """
    if 2 * structure.count(b'""') == structure.count(b'"'):
        return structure.translate(None, b'"')
    structure = structure.replace(b'""', b"")
    if b'"' in structure:
        structure = b"".join(structure.split(b'"')[::2])
    return structure


def _too_deep(depth: int | None, limits: ParseLimits) -> SbomError:
    found = f"{depth} levels" if depth is not None else "far more"
    return SbomError(
        "too_deep",
        f"The JSON document nests too deeply: the limit is {limits.max_nesting} levels "
        f"of arrays/objects, found {found}",
        {"limit": limits.max_nesting, "depth": depth},
    )
