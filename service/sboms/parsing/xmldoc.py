"""Hardened XML parsing: no DTDs, no entities, bounded depth, positions in errors."""

from __future__ import annotations

from xml.etree.ElementTree import Element, ParseError, TreeBuilder

from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
from defusedxml.ElementTree import DefusedXMLParser

from .decode import Payload
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


def local_name(tag: str) -> str:
    """Return an element name without its {namespace}."""
    return tag.rpartition("}")[2]


def namespace_of(tag: str) -> str | None:
    return tag[1:].partition("}")[0] if tag.startswith("{") else None


def parse_xml(payload: Payload, limits: ParseLimits) -> Element:
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
    # Without a byte order mark expat honours the encoding declaration itself; text
    # decoded from a BOM is handed over as str, which expat reads as UTF-8.
    data: bytes | str = payload.raw if payload.encoding == "utf-8" else payload.text()
    try:
        parser.feed(data)
        return parser.close()
    except ParseError as exc:
        line, column = exc.position
        reason = str(exc).split(": line ")[0]
        raise SbomError(
            "invalid_xml",
            f"Invalid XML at line {line}, column {column + 1}: {reason}",
            {"line": line, "column": column + 1, "reason": reason},
        ) from None
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
