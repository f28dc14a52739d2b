"""The entry point: bytes in, ParsedSbom out, or SbomError."""

from __future__ import annotations

from typing import Any

from service.core.collector import collector_paused

from .assemble import DocumentBuilder
from .cyclonedx import read_cyclonedx_json
from .decode import check_characters, decode_payload
from .detect import CYCLONEDX, JSON, SPDX2, XML, json_format, syntax_of
from .jsondoc import load_json
from .model import DEFAULT_LIMITS, ParsedSbom, ParseLimits
from .spdx2 import read_spdx2
from .spdx2doc import as_document, load_document
from .spdx3 import read_spdx3
from .spdx_tagvalue import read_tag_value


def parse_sbom(data: bytes, *, limits: ParseLimits = DEFAULT_LIMITS) -> ParsedSbom:
    """Read an SBOM upload of any supported format.

    Accepts gzip-compressed input and UTF-8 (with or without BOM), UTF-16 and UTF-32
    text. Raises SbomError (and nothing else) when the upload cannot be read.
    """
    if isinstance(data, str):
        data = data.encode("utf-8")
    with collector_paused():
        return _parse(bytes(data), limits)


def read_json(data: bytes, *, limits: ParseLimits = DEFAULT_LIMITS) -> Any:
    """Read a JSON document that wraps an SBOM (an API envelope) with the reader's size,
    nesting and character rules; raises SbomError (and nothing else)."""
    payload = decode_payload(bytes(data), limits)
    check_characters(payload, json=True)
    return load_json(payload, limits)


def _parse(data: bytes, limits: ParseLimits) -> ParsedSbom:
    payload = decode_payload(data, limits)
    builder = DocumentBuilder(limits)
    syntax = syntax_of(payload)
    check_characters(payload, json=syntax == JSON)
    if syntax == JSON:
        if (spdx2 := load_document(payload, limits)) is not None:  # typed: the fast way
            return read_spdx2(spdx2, builder, encoding="json")
        kind, document, prefix = json_format(load_json(payload, limits))
        if kind == CYCLONEDX:
            return read_cyclonedx_json(document, builder)
        if kind == SPDX2:
            return read_spdx2(as_document(document), builder, encoding="json", prefix=prefix)
        return read_spdx3(document, builder)
    if syntax == XML:
        # Imported for XML documents only: a command reading one JSON document, the
        # usual upload, never loads the XML parsers.
        from .cyclonedx_xml import check_xml_root, read_cyclonedx_xml
        from .xmldoc import parse_xml

        root = parse_xml(payload, limits)
        check_xml_root(root)
        return read_cyclonedx_xml(root, builder)
    return read_tag_value(payload.text(), builder)
