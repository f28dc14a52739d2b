"""Hardened XML parsing: no DTDs, no entities, bounded depth, positions in errors.

Two parsers give the same tree. defusedxml's parser refuses DTDs and entity
declarations as it meets them and the depth limit is checked at every element start,
but it runs expat's callbacks in Python. The standard library's C parser builds the same
tree about twice as fast; it is only given documents whose prolog, everything before the
root element, holds no DTD (a DTD cannot come anywhere else, and entities cannot be
declared without one), and depth is checked on the finished tree. Whenever the fast
parse fails, or the tree is too deep, the hardened parser reads the document again and
decides, so refusals and their messages are those of the hardened parser.
"""

from __future__ import annotations

import re
from functools import lru_cache
from xml.etree.ElementTree import Element, ParseError, TreeBuilder, XMLParser

from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
from defusedxml.ElementTree import DefusedXMLParser

from .decode import Payload, position_of
from .model import ParseLimits, SbomError


class _DepthLimitedBuilder:
    """A TreeBuilder target that refuses elements nested deeper than the limit."""

    def __init__(self, limit: int) -> None:
        self._tree = TreeBuilder()
        self._depth = 0
        self._limit = limit
        self.data = self._tree.data

    def start(self, tag: str, attrs: dict[str, str]) -> Element:
        self._depth += 1
        if self._depth > self._limit:
            raise SbomError(
                "too_deep",
                f"The XML document nests too deeply at <{local_name(tag)}>: the limit is "
                f"{self._limit} levels of elements",
                {"limit": self._limit, "element": local_name(tag)},
            )
        return self._tree.start(tag, attrs)

    def end(self, tag: str) -> Element:
        self._depth -= 1
        return self._tree.end(tag)

    def close(self) -> Element:
        return self._tree.close()


@lru_cache(maxsize=1024)  # a document repeats a few dozen element names many times
def local_name(tag: str) -> str:
    """Return an element name without its {namespace}."""
    return tag.rpartition("}")[2]


def namespace_of(tag: str) -> str | None:
    return tag[1:].partition("}")[0] if tag.startswith("{") else None


# What may come before the root element besides a DTD: an XML declaration or other
# processing instructions, comments, whitespace.
_PROLOG = re.compile(r"(?:\s+|<\?.*?\?>|<!--.*?-->)*", re.DOTALL)
_DECLARED_ENCODING = re.compile(r"""<\?xml\s[^>]*?\bencoding\s*=\s*["']([^"']*)""")
_UTF8_NAMES = frozenset({"utf-8", "utf8", "us-ascii", "ascii"})


def parse_xml(payload: Payload, limits: ParseLimits) -> Element:
    """Parse XML with DTDs, entity declarations and external entities forbidden."""
    # Without a byte order mark expat honours the encoding declaration itself; text
    # decoded from a BOM is handed over as str, which expat reads as UTF-8.
    data: bytes | str = payload.raw if payload.encoding == "utf-8" else payload.text()
    head = payload.head(4096)
    # The prolog is checked on the text as UTF-8 shows it; bytes declared to be in
    # another encoding could mean other markup, so those go the hardened way.
    declared = _DECLARED_ENCODING.match(head) if isinstance(data, bytes) else None
    if _prolog_without_dtd(head) and (declared is None or declared[1].lower() in _UTF8_NAMES):
        parser = XMLParser(target=TreeBuilder())
        try:
            parser.feed(data)
            root = parser.close()
        except ParseError:
            pass  # the hardened parser below says what is wrong
        else:
            if not _deeper_than(root, limits.max_nesting):
                return root
    return _parse_hardened(data, limits)


def _prolog_without_dtd(head: str) -> bool:
    """True when the document's start shows its root element with no DTD before it."""
    rest = head[_PROLOG.match(head).end() :]  # type: ignore[union-attr]  # always matches
    return rest[:1] == "<" and rest[1:2] not in ("!", "?", "/", "")


def _deeper_than(root: Element, limit: int) -> bool:
    """True when elements nest more than `limit` levels deep (the root is level 1)."""
    level = [root]
    for _ in range(limit):  # each round goes one level down
        level = [child for element in level for child in element]
        if not level:
            return False
    return True


def _parse_hardened(data: bytes | str, limits: ParseLimits) -> Element:
    """Parse XML with DTDs, entity declarations and external entities forbidden.

    Entity expansion attacks (billion laughs, external entities) need a DTD, so refusing
    the DTD stops them before any expansion happens.
    """
    parser = DefusedXMLParser(
        target=_DepthLimitedBuilder(limits.max_nesting),
        forbid_dtd=True,
        forbid_entities=True,
        forbid_external=True,
    )
    try:
        parser.feed(data)
        return parser.close()
    except ParseError as exc:
        raise _parse_error(data, exc) from None
    except (DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden) as exc:
        expat = parser.parser
        line, column = expat.CurrentLineNumber, expat.CurrentColumnNumber + 1
        what = {
            DTDForbidden: "a document type declaration (<!DOCTYPE>)",
            EntitiesForbidden: "an entity declaration (<!ENTITY>)",
            ExternalReferenceForbidden: "an external entity reference",
        }[type(exc)]
        raise SbomError(
            "xml_entities_forbidden",
            f"XML line {line}, column {column}: {what} is not accepted, because DTDs and "
            "entities allow expansion and file-disclosure attacks; expected plain XML",
            {"line": line, "column": column},
        ) from None


# expat's complaints when the text stops before the document does.
_ENDS_EARLY = frozenset({"no element found", "unclosed token"})


def _parse_error(data: bytes | str, exc: ParseError) -> SbomError:
    line, column = exc.position
    reason = str(exc).split(": line ")[0]
    if reason not in _ENDS_EARLY:
        return SbomError(
            "invalid_xml",
            f"Invalid XML at line {line}, column {column + 1}: {reason}",
            {"line": line, "column": column + 1, "reason": reason},
        )
    end = len(data.rstrip())
    line, column = position_of(data, end)
    head = data[:4096] if isinstance(data, str) else data[:4096].decode("utf-8", "replace")
    if reason == "unclosed token":
        where = "inside an unfinished tag, comment or text"
    elif _PROLOG.fullmatch(head.rstrip()):
        where = "before its root element"
    else:
        where = "before its elements are closed"
    return SbomError(
        "invalid_xml",
        f"The XML document ends early, at line {line}, column {column}, {where}: the "
        "upload was cut off; send the whole file",
        {"line": line, "column": column, "reason": "truncated"},
    )
