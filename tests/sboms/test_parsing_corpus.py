"""Every real SBOM in the shared corpus, checked against the counts in SOURCES.tsv.

SOURCES.tsv counts were made independently of this project. Where our definitions
differ, the difference is spelled out here instead of being hidden:

- `dependency_edges` counts distinct from -> to pairs whose both ends are elements of the
  document. SOURCES.tsv's `edges=N` counts every listed pair, so it is higher for the two
  malformed CycloneDX files whose entries point at nothing (an empty `ref`, a missing
  bom-ref); those edges are dropped with a warning.
- For SPDX 2 the relationships column gives counts per type; the dependency types among
  them (DEPENDS_ON, *_DEPENDENCY_OF, DYNAMIC_LINK, STATIC_LINK ...) add up to the edges.
- SOURCES.tsv counts every SPDX 3 package element. The one package an SPDX 3 document
  names as its root is the product itself, read as CycloneDX's `metadata.component` is
  (an element, not a component), so those files count one component (and, where the root
  has a purl, one purl) less: see `SPDX3_ROOT_PACKAGES` in tests.sboms.documents.
"""

from __future__ import annotations

import csv
import gzip
import json
import re
from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.sboms.parsing import ParsedSbom, SbomError, parse_sbom
from service.sboms.parsing.graph import DEPENDED_ON_BY, DEPENDS, classify_relationship
from tests.sboms.documents import SPDX3_ROOT_PACKAGES, expected_counts

CORPUS = Path(__file__).resolve().parents[2] / ".." / "shared" / "sboms"
pytestmark = pytest.mark.skipif(
    not (CORPUS / "SOURCES.tsv").is_file(),
    reason=f"the shared SBOM corpus is not checked out next to the repository ({CORPUS})",
)


def _sources() -> dict[str, dict[str, str]]:
    if not (CORPUS / "SOURCES.tsv").is_file():
        return {}
    with (CORPUS / "SOURCES.tsv").open(newline="") as handle:
        return {row["file"]: row for row in csv.DictReader(handle, delimiter="\t")}


SOURCES = _sources()

# Files the reader refuses, with the error code and words the message must contain.
REFUSED = {
    "malformed/cdx-dt-truncated.json": ("invalid_json", "line 2, column 28"),
    "malformed/cdx-guac-xml-declaration-only.xml": ("invalid_xml", "line 1, column 39"),
    "malformed/cdx-invalid-bomformat-1.6.json": ("unknown_format", "bomFormat"),
    # spdxVersion is the number 2: it does not say which 2.x rules apply, and the
    # document has no packages either; refusing it with a clear message loses nothing.
    "malformed/spdx-guac-invalid.json": ("unsupported_version", "spdxVersion"),
}
READABLE = sorted(set(SOURCES) - set(REFUSED))
# Malformed files that are readable: the warning that must explain what was wrong.
READ_WITH_WARNINGS = {
    "malformed/cdx-invalid-dependency-1.6.json": "dependencies[0].ref: missing or empty",
    "malformed/cdx-sbomqs-broken-dependency-target.cdx-1.6.json": (
        "'pkg:generic/nonexistent-lib@9.9.9' is not a component"
    ),
    "malformed/spdx-trivy-invalid-fluentd.spdx-2.2.json": "'DESCRIBE' is not defined by SPDX",
}
# Edges where our definition differs from SOURCES.tsv (see the module docstring).
DROPPED_EDGES = {
    "malformed/cdx-invalid-dependency-1.6.json": 1,  # "" -> library-a has no source
    "malformed/cdx-sbomqs-broken-dependency-target.cdx-1.6.json": 1,  # target missing
}
# SPDX 3 relationship elements carry several targets, so the per-type counts in
# SOURCES.tsv are not edge counts; these are read from the files by hand.
SPDX3_EDGES = {
    "spdx3-jsonld/spdx-spec-package-sbom.spdx3.json": 0,  # contains only
    "spdx3-jsonld/cargo-hello-server.spdx3.json": 3,  # three dependsOn
    "spdx3-jsonld/maven-enriched.spdx3.json": 5,  # four hasDynamicLink, one dependsOn
    "spdx3-jsonld/ai-simplehtr.spdx3.json": 7,  # one dependsOn to 7, stated twice
}


def _read(name: str) -> bytes:
    return (CORPUS / name).read_bytes()


@cache
def _parsed(name: str) -> ParsedSbom:
    """Parse each file once for the read-only checks below."""
    return parse_sbom(_read(name))


def test_the_corpus_lists_every_file_and_nothing_else() -> None:
    on_disk = {
        str(path.relative_to(CORPUS))
        for path in CORPUS.rglob("*")
        if path.is_file() and path.name not in ("README.md", "SOURCES.tsv")
    }
    assert on_disk == set(SOURCES)
    assert set(REFUSED) <= set(SOURCES)


@pytest.mark.parametrize("name", READABLE)
def test_counts_match_sources(name: str) -> None:
    row = SOURCES[name]
    parsed = _parsed(name)
    summary = parsed.summary()
    components, purls = expected_counts(row)
    if name in SPDX3_ROOT_PACKAGES:
        root_name = SPDX3_ROOT_PACKAGES[name][0]
        assert parsed.root_name == root_name
        assert root_name not in {c.name for c in parsed.components}
    assert summary["components"] == components
    assert summary["with_purl"] == purls
    has_graph = row["has_dependency_graph"].startswith("y")
    assert (summary["dependency_edges"] > 0) == has_graph
    assert summary["direct"] is None or summary["direct"] >= 0
    assert summary["direct"] is None or has_graph


@pytest.mark.parametrize("name", READABLE)
def test_edge_counts(name: str) -> None:
    row = SOURCES[name]
    edges = _parsed(name).summary()["dependency_edges"]
    column = row["relationships_or_dependencies"]
    listed = re.search(r"\bedges=(\d+)", column)
    if name in DROPPED_EDGES:
        assert listed is not None
        assert edges == int(listed[1]) - DROPPED_EDGES[name]
    elif listed is not None:
        assert edges == int(listed[1])
    elif name in SPDX3_EDGES:
        assert edges == SPDX3_EDGES[name]
    else:  # SPDX 2: the dependency relationship types add up to the edges
        counts = {kind: int(n) for kind, n in re.findall(r"(\w+)=(\d+)", column)}
        expected = sum(
            n
            for kind, n in counts.items()
            if classify_relationship(kind)[0] in (DEPENDS, DEPENDED_ON_BY)
        )
        assert edges == expected


@pytest.mark.parametrize(
    "name",
    [n for n in READABLE if n.startswith(("cyclonedx-json/", "edge-cases/cdx", "malformed/cdx"))],
)
def test_cyclonedx_direct_dependencies_are_the_roots_entry(name: str) -> None:
    """Depth 1 must be exactly what the root's own dependency entry lists."""
    raw = json.loads(_read(name))
    parsed = _parsed(name)
    root = (raw.get("metadata") or {}).get("component") or {}
    entries = {d.get("ref"): d.get("dependsOn") or [] for d in raw.get("dependencies") or []}
    refs = {c.ref for c in parsed.components}
    root_ref = root.get("bom-ref")
    if root_ref and entries.get(root_ref):
        assert parsed.depth_basis == "root"
        expected = set(entries[root_ref]) & refs
        assert {c.ref for c in parsed.components if c.depth == 1} == expected
    elif not parsed.edges:
        assert parsed.summary()["direct"] is None
        assert all(c.depth is None for c in parsed.components)


@pytest.mark.parametrize("name", sorted(READ_WITH_WARNINGS))
def test_readable_malformed_files_explain_themselves(name: str) -> None:
    warnings = _parsed(name).warnings
    assert any(READ_WITH_WARNINGS[name] in warning for warning in warnings), warnings


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_unreadable_files_are_refused_clearly(name: str) -> None:
    code, place = REFUSED[name]
    with pytest.raises(SbomError) as caught:
        parse_sbom(_read(name))
    assert caught.value.code == code
    assert place in caught.value.message
    assert caught.value.to_dict()["code"] == code


@pytest.mark.parametrize("name", READABLE)
def test_summary_is_deterministic_and_gzip_transparent(name: str) -> None:
    first = _parsed(name).summary()
    assert parse_sbom(gzip.compress(_read(name))).summary() == first


def test_documented_results_for_a_few_files() -> None:
    """Values checked by hand against the documents."""
    nested = _parsed("edge-cases/cdx-nested-components-small.json")
    # metadata.component has no bom-ref but its purl is the container's bom-ref
    assert nested.root_refs == [nested.components[0].ref]
    assert [c.depth for c in nested.components] == [0, 1, 1]
    example6 = _parsed("spdx-tagvalue/tools-golang-example6-bin.spdx")
    # its dependencies live in other documents (DocumentRef-go-lib:...): kept as edges
    assert example6.summary()["dependency_edges"] == 4
    assert example6.components[0].depth == 0
    trivy = _parsed("malformed/spdx-trivy-invalid-fluentd.spdx-2.2.json")
    assert trivy.root_refs == ["SPDXRef-ContainerImage-83c3ff25d55771a4"]
    assert trivy.summary()["direct"] is None  # CONTAINS only: depth unknown
    syft = _parsed("spdx-json/syft-0.57.0-fluentd-image.spdx-2.2.json")
    assert {c.ecosystem for c in syft.components} == {"gem", "apk", "maven"}
    legacy = _parsed("edge-cases/spdx-legacy-draft-json.spdx.json")
    assert [c.name for c in legacy.components] == [
        "golang.org/x/text",
        "rsc.io/quote",
        "rsc.io/sampler",
    ]


def test_scoped_npm_purls_with_an_encoded_slash_get_the_usual_key() -> None:
    """cdxgen writes a few scoped purls as `%40scope%2Fname`: same key as `%40scope/name`."""
    cdxgen = _parsed("cyclonedx-json/cdxgen-npm-postgen.cdx-1.5.json")
    keys = {c.purls[0]: c.package_key for c in cdxgen.components if c.purls}
    assert keys["pkg:npm/%40cypress%2Flistr-verbose-renderer@0.4.1"] == (
        "pkg:npm/%40cypress/listr-verbose-renderer"
    )
    assert keys["pkg:npm/%40types%2Fnode@10.12.18"] == "pkg:npm/%40types/node"
    for name in READABLE:
        for component in _parsed(name).components:
            key = component.package_key or ""
            assert not (component.ecosystem in ("npm", "maven", "golang") and "%2F" in key), key


# -- robustness: damaged real files raise SbomError or parse, nothing else -------------

FUZZ_SEEDS = [
    "cyclonedx-json/spec-valid-bom-1.6.json",
    "cyclonedx-xml/spec-valid-bom-1.6.xml",
    "edge-cases/cdx-nested-components-small.json",
    "spdx-json/spdx-spec-example-v2.3.spdx.json",
    "spdx-tagvalue/spdx-spec-example-v2.3.spdx",
    "spdx3-jsonld/cargo-hello-server.spdx3.json",
]
_FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _parse_or_refuse(data: bytes) -> None:
    try:
        parse_sbom(data)
    except SbomError as error:
        assert error.code and error.message


@pytest.mark.parametrize("name", FUZZ_SEEDS)
def test_truncations_only_raise_sbom_error(name: str) -> None:
    data = _read(name)

    @_FUZZ
    @given(st.integers(min_value=0, max_value=len(data)))
    def check(cut: int) -> None:
        _parse_or_refuse(data[:cut])

    check()


@pytest.mark.parametrize("name", FUZZ_SEEDS)
def test_byte_flips_only_raise_sbom_error(name: str) -> None:
    data = _read(name)

    @_FUZZ
    @given(
        st.lists(
            st.tuples(st.integers(0, len(data) - 1), st.integers(0, 255)),
            min_size=1,
            max_size=8,
        )
    )
    def check(flips: list[tuple[int, int]]) -> None:
        damaged = bytearray(data)
        for position, value in flips:
            damaged[position] = value
        _parse_or_refuse(bytes(damaged))

    check()
