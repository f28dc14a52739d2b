"""Dependency depth: shortest path from the root, fallbacks, cycles and gaps."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from service.sboms.parsing import parse_sbom
from service.sboms.parsing.graph import (
    DEPENDED_ON_BY,
    DEPENDS,
    DESCRIBES,
    OTHER,
    classify_relationship,
    compute_depths,
)

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "generate_sboms.py"


def bom(dependencies: list[dict], refs: list[str], root: str | None = "root") -> bytes:
    metadata = {"component": {"bom-ref": root, "name": "product"}} if root else {}
    return json.dumps(
        {
            "bomFormat": "CycloneDX",
            "specVersion": "1.6",
            "metadata": metadata,
            "components": [{"bom-ref": ref, "name": ref} for ref in refs],
            "dependencies": dependencies,
        }
    ).encode()


def depths(data: bytes) -> dict[str, int | None]:
    return {c.ref: c.depth for c in parse_sbom(data).components}


def test_diamond_takes_the_shortest_path() -> None:
    data = bom(
        [
            {"ref": "root", "dependsOn": ["a", "b"]},
            {"ref": "a", "dependsOn": ["c"]},
            {"ref": "b", "dependsOn": ["c", "d"]},
            {"ref": "c", "dependsOn": ["d"]},
        ],
        ["a", "b", "c", "d"],
    )
    assert depths(data) == {"a": 1, "b": 1, "c": 2, "d": 2}
    summary = parse_sbom(data).summary()
    assert (summary["direct"], summary["dependency_edges"]) == (2, 6)


def test_cycles_terminate() -> None:
    data = bom(
        [
            {"ref": "root", "dependsOn": ["a"]},
            {"ref": "a", "dependsOn": ["b"]},
            {"ref": "b", "dependsOn": ["a", "root"]},
        ],
        ["a", "b"],
    )
    assert depths(data) == {"a": 1, "b": 2}


def test_a_cycle_with_no_way_in_has_unknown_depth() -> None:
    data = bom([{"ref": "a", "dependsOn": ["b"]}, {"ref": "b", "dependsOn": ["a"]}], ["a", "b"])
    parsed = parse_sbom(data)
    assert depths(data) == {"a": None, "b": None}
    assert parsed.summary()["direct"] is None
    assert parsed.has_dependency_graph


def test_no_edges_means_unknown_depth() -> None:
    data = bom([{"ref": "root", "dependsOn": []}, {"ref": "a"}], ["a", "b"])
    parsed = parse_sbom(data)
    assert depths(data) == {"a": None, "b": None}
    assert parsed.summary()["direct"] is None
    assert parsed.depth_basis == "unknown"
    assert not parsed.has_dependency_graph


def test_edges_to_missing_components_are_dropped_with_a_warning() -> None:
    data = bom(
        [{"ref": "root", "dependsOn": ["a", "ghost"]}, {"ref": "ghost", "dependsOn": ["a"]}], ["a"]
    )
    parsed = parse_sbom(data)
    assert parsed.edges == [("root", "a")]
    assert depths(data) == {"a": 1}
    assert "dependencies[0].dependsOn[1]: 'ghost' is not a component" in parsed.warnings[0]
    assert "(and 1 more like it)" in parsed.warnings[0]


def test_without_a_root_graph_sources_are_direct() -> None:
    """No metadata.component: nodes nothing depends on count as depth 1."""
    data = bom(
        [
            {"ref": "a", "dependsOn": ["b"]},
            {"ref": "b", "dependsOn": ["c"]},
            {"ref": "lonely", "dependsOn": []},
        ],
        ["a", "b", "c", "lonely", "unlisted"],
        root=None,
    )
    parsed = parse_sbom(data)
    assert depths(data) == {"a": 1, "b": 2, "c": 3, "lonely": 1, "unlisted": None}
    assert parsed.depth_basis == "graph-sources"
    assert parsed.summary()["direct"] == 2


def test_a_root_without_its_own_entry_falls_back_with_a_warning() -> None:
    data = bom([{"ref": "a", "dependsOn": ["b"]}], ["a", "b"], root="root")
    parsed = parse_sbom(data)
    assert depths(data) == {"a": 1, "b": 2}
    assert any("root has no dependency entry" in w for w in parsed.warnings)


def test_compute_depths_directly() -> None:
    children = {"r": ["a", "b"], "a": ["c"], "b": ["c"], "c": ["a"]}
    assert compute_depths(children, ["r"]) == ({"r": 0, "a": 1, "b": 1, "c": 2}, "root")
    assert compute_depths({}, ["r"]) == ({}, "unknown")
    assert compute_depths({"x": ["y"]}, ["r"], ["z"]) == (
        {"r": 0, "z": 1, "x": 1, "y": 2},
        "graph-sources",
    )


@pytest.mark.parametrize(
    ("relationship", "kind", "defined"),
    [
        ("DEPENDS_ON", DEPENDS, True),
        ("dependsOn", DEPENDS, True),
        ("DYNAMIC_LINK", DEPENDS, True),
        ("hasStaticLink", DEPENDS, True),
        ("HAS_STATIC_LINK", DEPENDS, True),
        ("DEV_DEPENDENCY_OF", DEPENDED_ON_BY, True),
        ("RUNTIME_DEPENDENCY_OF", DEPENDED_ON_BY, True),
        ("WEIRD_DEPENDENCY_OF", DEPENDED_ON_BY, False),
        ("DEPENDENCY_MANIFEST_OF", OTHER, True),
        ("CONTAINS", OTHER, True),
        ("contains", OTHER, True),
        ("DESCRIBES", DESCRIBES, True),
        ("describes", DESCRIBES, True),
        ("DESCRIBE", DESCRIBES, False),
        ("INVENTED", OTHER, False),
    ],
)
def test_relationship_kinds(relationship: str, kind: str, defined: bool) -> None:
    assert classify_relationship(relationship) == (kind, defined)


def _generator():
    spec = importlib.util.spec_from_file_location("generate_sboms", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("generate_sboms", module)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("kind", ["cyclonedx", "spdx"])
def test_generated_documents_have_full_graphs(kind: str) -> None:
    generate = getattr(_generator(), f"generate_{kind}")
    parsed = parse_sbom(json.dumps(generate(2000)).encode())
    summary = parsed.summary()
    assert summary["components"] == 2000
    assert summary["with_purl"] == 2000
    assert summary["warnings"] == []
    assert summary["direct"] == 30
    assert summary["dependency_edges"] > 2000
    # every component is reachable from the product
    assert all(c.depth is not None for c in parsed.components)
    assert {c.ecosystem for c in parsed.components} >= {"npm", "pypi", "maven", "cargo"}
