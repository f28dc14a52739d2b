"""Hand-made documents for every quirk the reader accepts and everything it refuses."""

from __future__ import annotations

import gzip
import json
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.sboms.parsing import ParseLimits, SbomError, parse_sbom

FIXTURES = Path(__file__).parent / "fixtures"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def cyclonedx(**fields: object) -> dict:
    return {"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1, **fields}


def encode(document: dict) -> bytes:
    return json.dumps(document).encode()


def refused(data: bytes, **limits: int) -> SbomError:
    with pytest.raises(SbomError) as caught:
        parse_sbom(data, limits=ParseLimits(**limits))
    return caught.value


def by_ref(parsed) -> dict:
    return {c.ref: c for c in parsed.components}


# -- CycloneDX ---------------------------------------------------------------------------


def test_cyclonedx_json_quirks_are_read_with_warnings() -> None:
    parsed = parse_sbom(fixture("cdx-quirks.json"))
    components = by_ref(parsed)
    summary = parsed.summary()
    assert summary["components"] == 10  # nested ones included, metadata.component not
    assert summary["with_purl"] == 9
    assert parsed.root_refs == ["app"]
    assert parsed.root_name == "quirky-app"
    assert parsed.tools == ["hand 1.0"]
    # percent-encoded and literal npm scopes name one package
    assert components["scoped-encoded"].package_key == "pkg:npm/%40angular/core"
    assert components["scoped-plain"].package_key == "pkg:npm/%40angular/core"
    assert components["alpine-musl"].package_key == "pkg:apk/alpine/musl"
    assert components["alpine-musl"].ecosystem == "apk"
    assert components["no-version"].version is None
    assert components["no-version"].package_key == "pkg:pypi/floating-point-lib"
    assert components["bad-purl"].package_key is None
    assert components["bad-purl"].purls == ("not a purl at all",)
    assert components["inner"].scope == "optional"
    assert components["scoped-encoded"].hints == (
        ("vcs", "https://github.com/angular/angular"),
        ("website", "https://angular.dev"),
    )
    assert components["scoped-encoded"].hashes == (("SHA-256", "aa11"),)
    # a duplicated bom-ref keeps both components; references go to the first
    assert "scoped-plain#components[7]" in components
    # nested components at any depth, depth from the root's entry ({"ref": ...} objects too)
    assert [components[r].depth for r in ("outer", "middle", "inner")] == [1, 2, 3]
    assert components["scoped-encoded"].depth == 1  # shortest path wins
    assert components["alpine-musl"].depth is None  # outside the graph
    assert summary["direct"] == 2
    assert summary["dependency_edges"] == 5  # ghost and phantom edges dropped
    text = "\n".join(parsed.warnings)
    for expected in (
        "serialNumber: 'not-a-uuid-urn'",
        "metadata.timestamp: '2024-05-01T10:11:12.123456' has no time zone",
        "purl type 'alpine' is not a registered purl type; read as 'apk'",
        "components[5].purl: 'not a purl at all' is not a valid purl",
        "components[7]: reference 'scoped-plain' is already used",
        "dependencies[0].dependsOn[2]: 'ghost' is not a component",
        "1 of 10 components have no purl",
    ):
        assert expected in text


def test_fractional_seconds_with_zone_are_fine_in_cyclonedx() -> None:
    document = cyclonedx(metadata={"timestamp": "2024-05-01T10:11:12.5+02:00"})
    assert parse_sbom(encode(document)).warnings == []


def test_cyclonedx_xml_is_read_like_json() -> None:
    parsed = parse_sbom(fixture("cdx-1.2-quirks.xml"))
    components = by_ref(parsed)
    assert parsed.encoding == "xml"
    assert parsed.spec_version == "1.2"
    assert parsed.tools == ["xml-writer 0.1"]
    assert components["a"].group == "org.example"
    assert components["a"].hashes == (("SHA-1", "abcd"),)
    assert components["a"].hints == (("vcs", "https://github.com/example/a"),)
    assert components["a-inner"].depth == 2
    assert parsed.summary()["direct"] == 2
    assert any("'nowhere' is not a component" in w for w in parsed.warnings)


def test_cyclonedx_xml_versions_come_from_the_namespace() -> None:
    xml = b'<bom xmlns="http://cyclonedx.org/schema/bom/1.1" version="1"><components/></bom>'
    assert parse_sbom(xml).spec_version == "1.1"
    error = refused(b'<bom xmlns="urn:example" version="1"/>')
    assert error.code == "unsupported_version"
    assert "<bom>" in error.message


def test_newer_cyclonedx_minor_is_read_with_a_warning() -> None:
    parsed = parse_sbom(encode(cyclonedx(specVersion="1.7")))
    assert parsed.spec_version == "1.7"
    assert "newer than 1.6" in parsed.warnings[0]


@pytest.mark.parametrize(
    ("document", "code", "place"),
    [
        (cyclonedx(bomFormat="AnotherFormat"), "unknown_format", "bomFormat"),
        (cyclonedx(specVersion="2.0"), "unsupported_version", "specVersion"),
        ({"bomFormat": "CycloneDX"}, "unsupported_version", "specVersion: expected"),
        (cyclonedx(components={"a": 1}), "invalid_document", "components: expected an array"),
        ({"hello": "world"}, "unknown_format", "keys found: hello"),
        ([1, 2, 3], "unknown_format", "Top level"),
        ({"SPDXID": "SPDXRef-DOCUMENT"}, "unsupported_version", "spdxVersion: missing"),
        ({"spdxVersion": "SPDX-3.0"}, "unsupported_version", "JSON-LD"),
        ({"@context": "https://schema.org", "@graph": []}, "unknown_format", "Top level"),
    ],
)
def test_unreadable_json_documents(document: object, code: str, place: str) -> None:
    error = refused(json.dumps(document).encode())
    assert (error.code, place in error.message) == (code, True), error.message


def test_bad_entries_are_skipped_with_warnings() -> None:
    document = cyclonedx(
        components=["oops", {"name": "ok", "purl": 7}, {"name": "kid", "components": "x"}],
        dependencies=[5, {"ref": "x", "dependsOn": [None]}],
    )
    parsed = parse_sbom(encode(document))
    assert [c.name for c in parsed.components] == ["ok", "kid"]
    assert parsed.components[0].ref == "components[1]"  # synthesized from the path
    text = "\n".join(parsed.warnings)
    # warnings of one kind are counted after the first
    assert "components[0]: expected a component object, got a string (and 1 more" in text
    assert "components[1].purl: '7' is not a valid purl" in text
    assert "dependencies[0]: expected an object, got a number" in text


# -- SPDX 2 ------------------------------------------------------------------------------


def test_spdx_json_quirks() -> None:
    parsed = parse_sbom(fixture("spdx-quirks.spdx.json"))
    components = by_ref(parsed)
    assert parsed.root_refs == ["SPDXRef-product"]  # from the DESCRIBE slip
    assert parsed.namespace == "https://example.com/spdx/quirks"
    requests = components["SPDXRef-requests"]
    assert requests.purls == ("pkg:pypi/Requests@2.31.0", "pkg:github/psf/requests@v2.31.0")
    assert requests.package_key == "pkg:pypi/requests"  # the first purl that parses
    assert requests.cpe.startswith("cpe:2.3:a:python:requests")
    assert requests.hints == (("source-info", "built from https://github.com/psf/requests"),)
    assert components["SPDXRef-product"].hints == (
        ("vcs", "git+https://github.com/example/product.git"),
        ("website", "https://example.com"),
    )
    assert components["SPDXRef-product"].type == "application"
    assert components["SPDXRef-bundled"].hints == ()  # NONE is no location
    # DEPENDS_ON forward, DEPENDENCY_OF and TEST_DEPENDENCY_OF reversed, CONTAINS ignored;
    # an element of another document is a legitimate end, a missing one is not
    assert set(parsed.edges) == {
        ("SPDXRef-product", "SPDXRef-requests"),
        ("SPDXRef-requests", "SPDXRef-urllib3"),
        ("SPDXRef-product", "SPDXRef-pytest"),
        ("SPDXRef-product", "DocumentRef-other:SPDXRef-libc"),
    }
    depths = {ref: c.depth for ref, c in components.items()}
    assert depths == {
        "SPDXRef-product": 0,
        "SPDXRef-requests": 1,
        "SPDXRef-pytest": 1,
        "SPDXRef-urllib3": 2,
        "SPDXRef-bundled": None,
    }
    text = "\n".join(parsed.warnings)
    assert "has fractional seconds" in text
    assert "'DESCRIBE' is not defined by SPDX; read as DESCRIBES" in text
    assert "'VENDORED_INTO' is not defined by SPDX; ignored" in text
    assert "relationships[5]: 'SPDXRef-ghost' is not a component" in text


def test_spdx_package_places_are_named_in_messages_and_missing_ids() -> None:
    """Packages are numbered as they are read and named only where a message needs it."""

    def package(spdx_id: str | None, purl: str) -> dict:
        ref = {"referenceType": "purl", "referenceLocator": purl}
        return {"SPDXID": spdx_id, "name": "p", "externalRefs": [ref]}

    packages = [
        package("SPDXRef-a", "pkg:npm/a@1"),
        package(None, "pkg:npm/no-id@1"),
        package("SPDXRef-a", "not a purl"),
        package("SPDXRef-b", "pkg:alpine/musl@1.2"),
    ]
    document = {"spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT", "packages": packages}
    parsed = parse_sbom(json.dumps(document).encode())
    assert [c.ref for c in parsed.components] == [
        "SPDXRef-a",
        "packages[1]",
        "SPDXRef-a#packages[2]",
        "SPDXRef-b",
    ]
    text = "\n".join(parsed.warnings)
    assert "packages[2]: reference 'SPDXRef-a' is already used" in text
    assert "packages[2].externalRefs: 'not a purl' is not a valid purl" in text
    assert "packages[3]: purl type 'alpine' is not a registered purl type" in text
    error = refused(json.dumps(document).encode(), max_components=2)
    assert error.code == "too_many_components" and "(limit reached at packages[2])" in error.message


def test_spdx_ids_holding_documentref_past_their_start_are_this_documents_elements() -> None:
    def relationship(source: str, kind: str, target: str) -> dict:
        return {"spdxElementId": source, "relationshipType": kind, "relatedSpdxElement": target}

    mid = "SPDXRef-DocumentRef-mid"
    document = {
        "spdxVersion": "SPDX-2.3",
        "SPDXID": "SPDXRef-DOCUMENT",
        "packages": [{"SPDXID": "SPDXRef-app", "name": "app"}, {"SPDXID": mid, "name": "m"}],
        "relationships": [
            relationship("SPDXRef-DOCUMENT", "DESCRIBES", "SPDXRef-app"),
            relationship("SPDXRef-app", "DEPENDS_ON", mid),
            relationship(mid, "CONTAINS", "SPDXRef-app"),
            relationship(mid, "DEPENDS_ON", "SPDXRef-gone"),
        ],
    }
    parsed = parse_sbom(json.dumps(document).encode())
    assert parsed.edges == [("SPDXRef-app", mid)]
    assert by_ref(parsed)[mid].depth == 1
    assert parsed.warnings[0] == (
        "relationships[3]: 'SPDXRef-gone' is not a component or element of this document; "
        "the dependency is ignored"
    )


def test_github_dependency_graph_export() -> None:
    parsed = parse_sbom(fixture("github-dependency-graph.json"))
    summary = parsed.summary()
    assert (summary["format"], summary["spec_version"], summary["components"]) == (
        "spdx",
        "SPDX-2.3",
        3,
    )
    assert summary["direct"] == 2
    assert parsed.root_name == "com.github.example/webapp"
    assert "GitHub.com-Dependency-Graph" in parsed.tools
    error = refused(json.dumps({"sbom": {"spdxVersion": 2}}).encode())
    assert "sbom.spdxVersion" in error.message


def test_spdx_tag_value_multiline_text_fields() -> None:
    parsed = parse_sbom(fixture("spdx-multiline.spdx"))
    assert parsed.encoding == "tag-value"
    # tags inside <text> blocks are content, not packages or ids
    assert [(c.ref, c.name) for c in parsed.components] == [
        ("SPDXRef-app", "app"),
        ("SPDXRef-left-pad", "left-pad"),
    ]
    app = parsed.components[0]
    assert app.hashes == (("SHA1", "85ed0817af83a24ad8da68c2b5094de69833983c"),)
    assert app.package_key == "pkg:npm/app"
    assert parsed.summary()["direct"] == 1
    assert parsed.warnings == ["line 31: expected 'Tag: value'"]


def test_spdx_tag_value_unclosed_text_names_its_line() -> None:
    data = (
        b"SPDXVersion: SPDX-2.3\nSPDXID: SPDXRef-DOCUMENT\nDocumentComment: <text>never\nclosed\n"
    )
    error = refused(data)
    assert error.code == "invalid_tag_value"
    assert "line 3" in error.message


def test_spdx_tag_value_without_version_is_refused() -> None:
    error = refused(b"SPDXID: SPDXRef-DOCUMENT\nPackageName: x\n")
    assert error.code == "unsupported_version"


# -- SPDX 3 ------------------------------------------------------------------------------


def test_spdx3_quirks() -> None:
    parsed = parse_sbom(fixture("spdx3-quirks.json"))
    components = by_ref(parsed)
    lib, dep = (components[f"https://example.com/{n}"] for n in ("lib", "dep"))
    assert parsed.root_refs == ["https://example.com/app"]  # via the software_Sbom
    # The root package is the product, as CycloneDX's metadata.component: not counted.
    assert (parsed.root_name, len(parsed.components)) == ("app", 2)
    assert parsed.tools == ["hand-tool"]
    assert lib.cpe == "cpe:2.3:a:example:lib:2.0:*:*:*:*:*:*:*"
    assert lib.hashes == (("sha256", "cafe"),)
    assert lib.hints == (("vcs", "https://github.com/example/lib"),)
    assert (lib.depth, dep.depth) == (1, 2)  # DEPENDS_ON from the root, hasStaticLink
    assert parsed.summary()["dependency_edges"] == 2  # contains is not a dependency
    assert any("'https://example.com/missing' is not a component" in w for w in parsed.warnings)


def test_spdx3_single_element_document() -> None:
    parsed = parse_sbom(fixture("spdx3-single-element.json"))
    assert parsed.spec_version == "3.0.1"
    assert parsed.created == "2024-01-01T00:00:00Z"
    assert [c.package_key for c in parsed.components] == ["pkg:cargo/lonely"]
    assert parsed.summary()["direct"] is None


def test_spdx3_version_from_context_and_refusal_without_one() -> None:
    element = {"type": "software_Package", "spdxId": "urn:x", "name": "x"}
    with_context = {"@context": "https://spdx.org/rdf/3.0.0/spdx-context.jsonld", **element}
    assert parse_sbom(encode(with_context)).spec_version == "3.0.0"
    error = refused(encode({"@context": "https://spdx.org/rdf/spdx-context.jsonld", **element}))
    assert error.code == "unsupported_version"


# -- bytes: encodings, compression, limits -------------------------------------------------

SMALL = encode(cyclonedx(components=[{"name": "é-lib", "purl": "pkg:npm/e-lib@1"}]))


@pytest.mark.parametrize("codec", ["utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32"])
def test_text_encodings(codec: str) -> None:
    text = SMALL.decode()
    data = text.encode(codec)
    if codec in ("utf-16-le", "utf-16-be"):
        data = "\ufeff".encode(codec) + data  # these codecs write no mark by themselves
    parsed = parse_sbom(data)
    assert parsed.components[0].name == "é-lib"


def test_utf16_xml_with_bom() -> None:
    xml = '<?xml version="1.0" encoding="UTF-16"?>\n' + fixture("cdx-1.2-quirks.xml").decode()[39:]
    parsed = parse_sbom(xml.encode("utf-16"))
    assert parsed.summary()["components"] == 3


def test_invalid_utf8_names_the_place() -> None:
    error = refused(b'{"bomFormat": "CycloneDX",\n "x": "\xff"}')
    assert error.code == "bad_encoding"
    assert "line 2, column 8" in error.message


def test_gzip_input_is_decompressed() -> None:
    assert parse_sbom(gzip.compress(SMALL)).summary() == parse_sbom(SMALL).summary()
    assert parse_sbom(gzip.compress(SMALL) + gzip.compress(b" ")).components  # two members


def test_gzip_bomb_is_refused_while_decompressing() -> None:
    bomb = gzip.compress(b"[" + b" " * 20_000_000 + b"]")
    assert len(bomb) < 100_000
    started = time.perf_counter()
    error = refused(bomb, max_bytes=1_000_000)
    assert error.code == "too_large"
    assert time.perf_counter() - started < 1.0


def test_corrupt_gzip_is_refused() -> None:
    assert refused(gzip.compress(SMALL)[:-12]).code == "invalid_gzip"
    assert refused(b"\x1f\x8b" + b"garbage" * 5).code == "invalid_gzip"


def test_too_large_input_is_refused_before_parsing() -> None:
    error = refused(SMALL, max_bytes=10)
    assert error.code == "too_large"
    assert error.details["limit"] == 10


def test_component_limit() -> None:
    document = cyclonedx(components=[{"name": f"c{i}"} for i in range(5)])
    error = refused(encode(document), max_components=3)
    assert error.code == "too_many_components"
    assert "components[3]" in error.message


@pytest.mark.parametrize("depth", [65, 100_000])
def test_deep_json_is_refused(depth: int) -> None:
    document = '{"bomFormat": "CycloneDX", "specVersion": "1.6", "x": ' + "[" * depth
    document += "]" * depth + "}"
    error = refused(document.encode())
    assert error.code == "too_deep"


def test_nesting_limit_counts_containers_not_brackets_in_strings() -> None:
    tricky = "]" * 200 + '\\"' + "[" * 200
    nested = [[[["ok"]]]]
    document = cyclonedx(components=[{"name": tricky, "description": nested}])
    assert parse_sbom(encode(document)).components[0].name == tricky
    assert refused(encode(document), max_nesting=5).code == "too_deep"  # 6 levels


def test_deep_xml_is_refused() -> None:
    xml = '<bom xmlns="http://cyclonedx.org/schema/bom/1.4">' + "<a>" * 80 + "</a>" * 80
    error = refused((xml + "</bom>").encode())
    assert error.code == "too_deep"
    assert "<a>" in error.message


@pytest.mark.parametrize("name", ["billion-laughs.xml", "external-entity.xml"])
def test_entity_attacks_are_refused_quickly(name: str) -> None:
    started = time.perf_counter()
    error = refused(fixture(name))
    assert time.perf_counter() - started < 0.5
    assert error.code == "xml_entities_forbidden"
    assert "line 2" in error.message


def test_undeclared_entities_and_broken_xml_name_the_position() -> None:
    error = refused(b'<bom xmlns="http://cyclonedx.org/schema/bom/1.4">\n  <x>&nope;</x></bom>')
    assert error.code == "invalid_xml"
    assert "line 2" in error.message


def test_spdx_rdf_and_other_xml_are_named() -> None:
    rdf = b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>'
    assert "SPDX RDF/XML is not supported" in refused(rdf).message
    assert "<html>" in refused(b"<html><body/></html>").message


@pytest.mark.parametrize("data", [b"", b"   \n\t ", b"\xef\xbb\xbf", b"\xff\xfe"])
def test_empty_input(data: bytes) -> None:
    assert refused(data).code == "empty"


@pytest.mark.parametrize("data", [b"hello world", b"name,version\nx,1\n", b"\x00\x01\x02\x03"])
def test_content_that_is_no_sbom(data: bytes) -> None:
    assert refused(data).code in ("unknown_format", "bad_encoding")


def test_huge_numbers_are_refused_not_crashed_on() -> None:
    data = b'{"bomFormat": "CycloneDX", "specVersion": "1.6", "version": ' + b"1" * 5000 + b"}"
    error = refused(data)
    assert error.code == "invalid_json"
    assert "digits" in error.message


def test_error_to_dict() -> None:
    error = refused(b"{")
    assert error.to_dict() == {
        "code": "invalid_json",
        "message": error.message,
        "details": {"line": 1, "column": 2, "reason": error.details["reason"]},
    }


def test_warnings_stay_bounded() -> None:
    relationships = [
        {
            "spdxElementId": "SPDXRef-a",
            "relationshipType": f"MADE_UP_{i}",
            "relatedSpdxElement": "x",
        }
        for i in range(500)
    ]
    document = {
        "spdxVersion": "SPDX-2.3",
        "SPDXID": "SPDXRef-DOCUMENT",
        "relationships": relationships,
    }
    warnings = parse_sbom(encode(document)).warnings
    assert len(warnings) <= 51
    assert "left out" in warnings[-1]


# -- robustness: any value in any field gives a document or an SbomError -----------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)


def _paths(value: object, prefix: tuple = ()) -> list[tuple]:
    found = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value[:4]):
            found += _paths(child, (*prefix, index))
    return found


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(
        [
            "cdx-quirks.json",
            "spdx-quirks.spdx.json",
            "spdx3-quirks.json",
            "github-dependency-graph.json",
        ]
    ),
    st.data(),
)
def test_any_value_in_any_field_gives_a_result_or_sbom_error(
    name: str, data: st.DataObject
) -> None:
    document = json.loads(fixture(name))
    path = data.draw(st.sampled_from(_paths(document)[1:]))
    parent = document
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = data.draw(JSON_VALUES)
    try:
        parse_sbom(encode(document))
    except SbomError as error:
        assert error.code and error.message


def test_spdx3_references_are_followed_as_sbom_tool_writes_them() -> None:
    """Hand-made after Microsoft's sbom-tool: every purl an ExternalIdentifier element of
    its own (type "purl"), referenced by spdxId; the CreationInfo found by its blank-node
    @id although it has an spdxId too; relationships point at packages by id."""
    parsed = parse_sbom(fixture("spdx3-sbom-tool.json"))
    assert (parsed.spec_version, parsed.created) == ("3.0", "2025-03-01T10:00:00Z")
    assert parsed.root_name == "webapp"
    assert sorted(c.purls[0] for c in parsed.components) == [
        "pkg:nuget/Newtonsoft.Json@13.0.3",
        "pkg:nuget/Polly@8.2.0",
        "pkg:nuget/Serilog@3.1.1",
    ]
    depths = {c.name: c.depth for c in parsed.components}
    assert depths == {"Newtonsoft.Json": 1, "Serilog": 1, "Polly": 2}
    summary = parsed.summary()
    assert (summary["with_purl"], summary["direct"], summary["dependency_edges"]) == (3, 2, 3)
    assert not any("no purl" in w for w in parsed.warnings)


def test_spdx3_counts_its_root_package_as_cyclonedx_counts_metadata_component() -> None:
    spdx3 = parse_sbom(fixture("spdx3-sbom-tool.json")).summary()
    same_project = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "metadata": {"component": {"type": "application", "name": "webapp", "bom-ref": "r"}},
        "components": [
            {"type": "library", "bom-ref": n, "name": n, "purl": f"pkg:nuget/{n}@1"}
            for n in ("Newtonsoft.Json", "Serilog", "Polly")
        ],
        "dependencies": [
            {"ref": "r", "dependsOn": ["Newtonsoft.Json", "Serilog"]},
            {"ref": "Serilog", "dependsOn": ["Polly"]},
        ],
    }
    cdx = parse_sbom(json.dumps(same_project).encode()).summary()
    keys = ("components", "with_purl", "direct", "dependency_edges")
    assert [spdx3[k] for k in keys] == [cdx[k] for k in keys]


def test_cyclonedx_xml_without_metadata_component_roots_at_its_own_application() -> None:
    document = b"""<?xml version="1.0"?>
<bom xmlns="http://cyclonedx.org/schema/bom/1.4" version="1">
  <components>
    <component type="application" bom-ref="app"><name>shop</name><version>3</version></component>
    <component type="library" bom-ref="a"><name>a</name><purl>pkg:maven/x/a@1</purl></component>
    <component type="library" bom-ref="b"><name>b</name><purl>pkg:maven/x/b@1</purl></component>
    <component type="library" bom-ref="c"><name>c</name><purl>pkg:maven/x/c@1</purl></component>
  </components>
  <dependencies>
    <dependency ref="app"><dependency ref="a"/><dependency ref="b"/></dependency>
    <dependency ref="b"><dependency ref="c"/></dependency>
  </dependencies>
</bom>"""
    parsed = parse_sbom(document)
    assert parsed.root_refs == ["app"] and parsed.root_name == "shop"
    assert parsed.depth_basis == "root"
    assert {c.ref: c.depth for c in parsed.components} == {"app": 0, "a": 1, "b": 1, "c": 2}
    assert parsed.summary()["direct"] == 2  # a and b, not the application itself


def test_two_applications_without_metadata_component_keep_the_graph_sources() -> None:
    document = cyclonedx(
        components=[
            {"type": "application", "bom-ref": "one", "name": "one"},
            {"type": "application", "bom-ref": "two", "name": "two"},
            {"type": "library", "bom-ref": "lib", "name": "lib"},
        ],
        dependencies=[{"ref": "one", "dependsOn": ["lib"]}, {"ref": "two", "dependsOn": ["lib"]}],
    )
    parsed = parse_sbom(encode(document))
    assert parsed.root_refs == [] and parsed.depth_basis == "graph-sources"


@pytest.mark.parametrize(
    ("cut", "place", "inside"),
    [
        (
            b'{"bomFormat": "CycloneDX", "components": [{"name": "a"},',
            "line 1, column 57",
            "closed",
        ),
        (
            b'{"bomFormat": "CycloneDX", "components": [{"name": "lef',
            "line 1, column 56",
            "string that starts at line 1, column 52",
        ),
    ],
)
def test_truncated_json_says_where_the_document_ends(cut: bytes, place: str, inside: str) -> None:
    error = refused(cut)
    assert error.code == "invalid_json" and error.details["reason"] == "truncated"
    assert "ends early, at " + place in error.message and inside in error.message
    assert "Expecting" not in error.message and "Unterminated" not in error.message


def test_truncated_xml_says_where_the_document_ends() -> None:
    whole = fixture("cdx-1.2-quirks.xml")
    error = refused(whole[: len(whole) // 2])
    assert error.code == "invalid_xml" and error.details["reason"] == "truncated"
    assert "ends early, at line" in error.message
