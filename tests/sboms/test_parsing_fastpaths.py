"""The reader's fast paths give exactly what the plain ones give.

JSON is decoded by msgspec with the standard parser as fallback, SPDX 2 JSON straight
into its typed classes, the nesting limit is checked on bytes, and XML is parsed by the
C parser when its prolog has no DTD; each is compared here with the slower, obviously
right way.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.sboms.parsing import ParseLimits, SbomError, parse_sbom
from service.sboms.parsing.assemble import DocumentBuilder
from service.sboms.parsing.decode import check_characters, decode_payload
from service.sboms.parsing.detect import json_format
from service.sboms.parsing.jsondoc import _load_standard, check_nesting, load_json
from service.sboms.parsing.spdx2 import read_spdx2
from service.sboms.parsing.spdx2doc import as_document, load_document
from service.sboms.parsing.xmldoc import _parse_hardened, _prolog_without_dtd, parse_xml

CORPUS = Path(__file__).resolve().parents[2] / ".." / "shared" / "sboms"
FIXTURES = Path(__file__).parent / "fixtures"
LIMITS = ParseLimits()


def _outcome(load, data: bytes, limits: ParseLimits = LIMITS) -> Any:
    try:
        return ("ok", load(decode_payload(data, limits), limits))
    except SbomError as exc:
        return ("error", exc.code, exc.message)


def _same(a: Any, b: Any) -> bool:
    """Equal, with the same types all the way down (1 is not 1.0, -0.0 is not 0.0)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(map(_same, a, b))
    if isinstance(a, float):
        return repr(a) == repr(b)  # nan equals nan, -0.0 differs from 0.0
    return a == b


_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(10**40), max_value=10**40)  # beyond 64 bits
    | st.floats()  # NaN and infinities too: json.dumps writes them, msgspec refuses them
    | st.text()
    | st.sampled_from(["\ud800", "a\udc00b", "\U0001f600", "\x00", 'q"uo\\te'])
)
_VALUES = st.recursive(
    _SCALARS, lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner), max_leaves=25
)


@settings(max_examples=500, deadline=None, suppress_health_check=list(HealthCheck))
@given(_VALUES, st.booleans(), st.booleans())
def test_the_fast_decoder_reads_what_the_standard_parser_reads(
    value: Any, ensure_ascii: bool, indent: bool
) -> None:
    text = json.dumps({"doc": value}, ensure_ascii=ensure_ascii, indent=2 if indent else None)
    data = text.encode("utf-8", "surrogatepass")  # lone surrogates: invalid UTF-8 upload
    fast, standard = _outcome(load_json, data), _outcome(_load_standard, data)
    assert fast[0] == standard[0]
    assert _same(fast, standard) if fast[0] == "ok" else fast == standard


_TOKENS = [*'[]{}",:0123456789-+.eE \t\n', "\\", "\\u", "\\ud800", "\\u0041", "é", "\x01"]
_TOKENS += ["true", "null", "NaN", "Infinity", "1e400", "12345678901234567890123", '"a"', '{"a":']


@settings(max_examples=2000, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.sampled_from(_TOKENS), min_size=1, max_size=30))
def test_fast_decoder_and_standard_parser_agree_on_any_text(tokens: list[str]) -> None:
    data = "".join(tokens).encode()
    fast, standard = _outcome(load_json, data), _outcome(_load_standard, data)
    assert _same(fast, standard) if fast[0] == "ok" == standard[0] else fast == standard


def test_documents_the_fast_decoder_refuses_are_read_by_the_standard_parser() -> None:
    data = b'{"a": "\\ud800", "b": NaN, "c": 1e400, "d": 123456789012345678901234567890}'
    value = load_json(decode_payload(data, LIMITS), LIMITS)
    assert value["a"] == "\ud800" and math.isnan(value["b"]) and value["c"] == math.inf
    assert value["d"] == 123456789012345678901234567890


def _spdx2_the_generic_way(data: bytes) -> Any:
    """Decode as dictionaries, convert to the typed classes, read: the path of documents
    the typed decoder does not take."""
    try:
        payload = decode_payload(data, LIMITS)
        check_characters(payload, json=True)
        _, document, prefix = json_format(load_json(payload, LIMITS))
        parsed = read_spdx2(as_document(document), DocumentBuilder(LIMITS), prefix=prefix)
    except SbomError as exc:
        return ("error", exc.to_dict())
    return ("ok", parsed)


def _parsed(data: bytes) -> Any:
    try:
        return ("ok", parse_sbom(data))
    except SbomError as exc:
        return ("error", exc.to_dict())


_PACKAGE = st.fixed_dictionaries(
    {},
    optional={
        "SPDXID": _SCALARS,
        "name": st.sampled_from(["a", " b ", "", None, 3]),
        "packageName": st.just("legacy"),
        "versionInfo": _SCALARS,
        "externalRefs": _VALUES
        | st.lists(
            st.fixed_dictionaries(
                {
                    "referenceType": st.sampled_from(["purl", "PURL", "cpe23Type", 7]),
                    "referenceLocator": st.sampled_from(
                        ["pkg:npm/%40s/x@1", "pkg:pypi/A_b@2", "cpe:2.3:a:v:p:1", "nope", None]
                    ),
                }
            )
        ),
        "downloadLocation": st.sampled_from(["NOASSERTION", "git+https://x.example/y", 5]),
        "licenseConcluded": _VALUES,
        "_line": _SCALARS,
    },
)
_RELATIONSHIP = st.fixed_dictionaries(
    {},
    optional={
        "spdxElementId": st.sampled_from(["SPDXRef-DOCUMENT", " SPDXRef-a ", "NONE", 1]),
        "relationshipType": st.sampled_from(["DEPENDS_ON", "DESCRIBES", "CONTAINS", "X"]),
        "relatedSpdxElement": st.sampled_from(["SPDXRef-a", "DocumentRef-d:SPDXRef-x", ""]),
    },
)


@settings(max_examples=500, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    st.fixed_dictionaries(
        {"spdxVersion": st.sampled_from(["SPDX-2.3", "SPDX-2.9", None, 2])},
        optional={
            "SPDXID": _SCALARS,
            "name": _SCALARS,
            "packages": st.lists(_PACKAGE | _SCALARS, max_size=4) | _VALUES,
            "relationships": st.lists(_RELATIONSHIP | _VALUES, max_size=4) | _VALUES,
            "files": _VALUES,
            "documentDescribes": _VALUES,
            "comment": _VALUES,
        },
    ),
    st.booleans(),
)
def test_typed_spdx2_decoding_reads_what_the_generic_way_reads(
    document: dict[str, Any], ensure_ascii: bool
) -> None:
    data = json.dumps(document, ensure_ascii=ensure_ascii).encode("utf-8", "surrogatepass")
    assert _parsed(data) == _spdx2_the_generic_way(data)


@pytest.mark.parametrize(
    "data",
    [
        b'{"spdxVersion": "SPDX-2.3", "comment": "\xff\xfe", "packages": []}',  # bad UTF-8
        b'{"spdxVersion": "SPDX-2.3", "comment": 1e400, "packages": [{"name": "a"}]}',
        b'{"spdxVersion": "SPDX-2.3", "packages": [{"name": 1e400}]}',
        b'{"spdxVersion": "SPDX-2.3", "comment": "\\ud800", "packages": []}',
        b'{"spdxVersion": "SPDX-2.3", "comment": ' + b"[" * 70 + b"]" * 70 + b"}",
        b'{"spdxVersion": "SPDX-2.3", "packages": [{"name": "a", "name": "b"}]}',
        '{"spdxVersion": "SPDX-2.3", "packages": [{"name": "é"}]}'.encode("utf-16"),
    ],
)
def test_spdx2_documents_the_typed_decoder_leaves_read_the_same(data: bytes) -> None:
    assert _parsed(data) == _spdx2_the_generic_way(data)


def test_only_spdx2_documents_take_the_typed_decoder() -> None:
    for data in (
        b'{"spdxVersion": "SPDX-2.3", "bomFormat": null, "components": []}',
        b'{"sbom": {"spdxVersion": "SPDX-2.3", "packages": []}}',
        b'["spdxVersion"]',
    ):
        assert load_document(decode_payload(data, LIMITS), LIMITS) is None
    data = b'{"spdxVersion": "SPDX-2.3", "packages": [{"name": "a", "licenseConcluded": "MIT"}]}'
    assert load_document(decode_payload(data, LIMITS), LIMITS) is not None


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    return 0


_TRICKY_TEXT = st.text(alphabet='[]{}"\\/ab\n', max_size=8)
_NESTED = st.recursive(
    st.integers(0, 9) | _TRICKY_TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TRICKY_TEXT, inner, max_size=3),
    max_leaves=40,
)


@settings(max_examples=1000, deadline=None, suppress_health_check=list(HealthCheck))
@given(_NESTED, st.integers(0, 8), st.booleans())
def test_nesting_check_agrees_with_the_parsed_depth(value: Any, limit: int, indent: bool) -> None:
    document = json.dumps(value, indent=1 if indent else None).encode()
    limits = ParseLimits(max_nesting=limit)
    depth = _depth(value)
    if depth <= limit:
        check_nesting(document, limits)
    else:
        with pytest.raises(SbomError) as raised:
            check_nesting(document, limits)
        assert (raised.value.code, raised.value.details["depth"]) == ("too_deep", depth)


def test_brackets_inside_strings_cannot_hide_the_depth() -> None:
    """Strings of closing then opening brackets, read as structure, would bring a
    66-level document down to 56 levels and balance it."""

    def nested(value: Any, levels: int) -> Any:
        for _ in range(levels):
            value = [value]
        return value

    document = json.dumps(nested(["]" * 10, nested(0, 36), "[" * 10], 29)).encode()
    with pytest.raises(SbomError) as raised:
        check_nesting(document, ParseLimits(max_nesting=64))
    assert raised.value.details["depth"] == 66


@pytest.mark.parametrize(
    ("head", "fast"),
    [
        ('<?xml version="1.0"?>\n<bom xmlns="x"/>', True),
        ("<!-- a comment -->\n<?pi x?>\n<bom/>", True),
        ("<bom>", True),
        ('<?xml version="1.0"?>\n<!DOCTYPE bom [<!ENTITY x "y">]>\n<bom/>', False),
        ("<!-- c --><!DOCTYPE bom>", False),
        ("<!-- unclosed comment <bom/>", False),
        ('<?xml version="1.0" x="?>"?><!DOCTYPE x><x/>', False),
        ("  \n", False),
        ("</bom>", False),
    ],
)
def test_only_documents_without_a_dtd_take_the_fast_xml_parser(head: str, fast: bool) -> None:
    assert _prolog_without_dtd(head) is fast


def _tree(element: Element) -> Any:
    return (element.tag, element.attrib, element.text, element.tail, [*map(_tree, element)])


_XML = sorted(CORPUS.glob("cyclonedx-xml/*.xml")) + sorted(FIXTURES.glob("*.xml"))


@pytest.mark.parametrize("path", _XML, ids=lambda path: path.name)
def test_the_fast_xml_parser_builds_the_hardened_parsers_tree(path: Path) -> None:
    payload = decode_payload(path.read_bytes(), LIMITS)
    try:
        hardened = _tree(_parse_hardened(payload.raw, LIMITS))
    except SbomError as refused:
        with pytest.raises(SbomError) as raised:
            parse_xml(payload, LIMITS)
        assert raised.value.to_dict() == refused.to_dict()
    else:
        assert _tree(parse_xml(payload, LIMITS)) == hardened


@pytest.mark.parametrize(
    "xml",
    [
        '<?xml version="1.0" encoding="UTF-8"?>\n<bom><name>caf\u00e9</name></bom>'.encode(),
        '<?xml version="1.0" encoding="ISO-8859-1"?>\n<bom><name>caf\u00e9</name></bom>'.encode(
            "latin-1"
        ),
        '<?xml version="1.0" encoding="UTF-16"?>\n<bom><name>caf\u00e9</name></bom>'.encode(
            "utf-16"
        ),
    ],
)
def test_declared_encodings_read_the_same(xml: bytes) -> None:
    payload = decode_payload(xml, LIMITS)
    data = payload.raw if payload.encoding == "utf-8" else payload.text()
    root = parse_xml(payload, LIMITS)
    assert _tree(root) == _tree(_parse_hardened(data, LIMITS))
    assert root[0].text == "caf\u00e9"


@pytest.mark.parametrize(
    "xml",
    [
        b'<bom xmlns="http://cyclonedx.org/schema/bom/1.4">\n  <x>&nope;</x></bom>',
        b"<bom><a></b></bom>",
        b"<bom>" + b"<a>" * 70 + b"</a>" * 70 + b"</bom>",
        b"<bom>" + b"<a>" * 70 + b"</a>" * 69 + b"</bom>",  # too deep and broken
    ],
)
def test_fast_xml_failures_are_reported_by_the_hardened_parser(xml: bytes) -> None:
    payload = decode_payload(xml, LIMITS)
    with pytest.raises(SbomError) as fast:
        parse_xml(payload, LIMITS)
    with pytest.raises(SbomError) as hardened:
        _parse_hardened(payload.raw, LIMITS)
    assert fast.value.to_dict() == hardened.value.to_dict()
