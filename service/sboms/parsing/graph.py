"""Dependency graph: which relationships are dependencies, and depth from the root.

Depth is the shortest path (breadth-first) from a root: the root is depth 0 and what it
depends on directly is depth 1. When the document has dependency edges but none leaves a
root (no root declared, or the root's own entry is missing), the graph nodes that nothing
depends on are taken as the root's direct dependencies (depth 1): the product itself is
what uses them. Components outside the graph, and all components of a document without
dependency edges, have unknown depth (None).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from functools import lru_cache
from itertools import chain

DEPENDS = "depends"  # from depends on to
DEPENDED_ON_BY = "depended_on_by"  # to depends on from
DESCRIBES = "describes"
DESCRIBED_BY = "described_by"
OTHER = "other"  # containment, provenance, licensing ...: not a dependency

# SPDX 2.3 (upper snake case) and SPDX 3.0 (lower camel case) relationship types.
# Lookup keys drop "_" and "-" and are uppercased, so "DEPENDS_ON", "dependsOn" and
# "DEPENDSON" meet; SPDX 3 documents in the wild use both spellings.
_SPDX2_TYPES = """
DESCRIBES DESCRIBED_BY CONTAINS CONTAINED_BY DEPENDS_ON DEPENDENCY_OF
DEPENDENCY_MANIFEST_OF BUILD_DEPENDENCY_OF DEV_DEPENDENCY_OF OPTIONAL_DEPENDENCY_OF
PROVIDED_DEPENDENCY_OF TEST_DEPENDENCY_OF RUNTIME_DEPENDENCY_OF EXAMPLE_OF GENERATES
GENERATED_FROM ANCESTOR_OF DESCENDANT_OF VARIANT_OF DISTRIBUTION_ARTIFACT PATCH_FOR
PATCH_APPLIED COPY_OF FILE_ADDED FILE_DELETED FILE_MODIFIED EXPANDED_FROM_ARCHIVE
DYNAMIC_LINK STATIC_LINK DATA_FILE_OF TEST_CASE_OF BUILD_TOOL_OF DEV_TOOL_OF TEST_OF
TEST_TOOL_OF DOCUMENTATION_OF OPTIONAL_COMPONENT_OF METAFILE_OF PACKAGE_OF AMENDS
PREREQUISITE_FOR HAS_PREREQUISITE REQUIREMENT_DESCRIPTION_FOR SPECIFICATION_FOR OTHER
"""
_SPDX3_TYPES = """
affects amendedBy ancestorOf availableFrom configures contains coordinatedBy copiedTo
delegatedTo dependsOn descendantOf describes doesNotAffect expandsTo exploitCreatedBy
fixedBy fixedIn foundBy generates hasAddedFile hasAssessmentFor
hasAssociatedVulnerability hasConcludedLicense hasDataFile hasDeclaredLicense
hasDeletedFile hasDependencyManifest hasDistributionArtifact hasDocumentation
hasDynamicLink hasEvidence hasExample hasHost hasInput hasMetadata hasOptionalComponent
hasOptionalDependency hasOutput hasPrerequisite hasProvidedDependency hasRequirement
hasSpecification hasStaticLink hasTest hasTestCase hasVariant invokedBy modifiedBy other
packagedBy patchedBy publishedBy reportedBy republishedBy serializedInArtifact testedOn
trainedOn underInvestigationFor usesTool
"""


def relationship_key(relationship_type: str) -> str:
    """Return the spelling-independent lookup key of a relationship type."""
    return relationship_type.replace("_", "").replace("-", "").upper()


_KINDS: dict[str, str] = dict.fromkeys(
    map(relationship_key, (_SPDX2_TYPES + _SPDX3_TYPES).split()), OTHER
)
_DEPENDS_TYPES = (
    "DEPENDS_ON",
    "DYNAMIC_LINK",
    "STATIC_LINK",
    "HAS_PREREQUISITE",
    "dependsOn",
    "hasDynamicLink",
    "hasStaticLink",
    "hasPrerequisite",
    "hasOptionalDependency",
    "hasProvidedDependency",
)
_DEPENDED_ON_BY_TYPES = (
    "DEPENDENCY_OF",
    "BUILD_DEPENDENCY_OF",
    "DEV_DEPENDENCY_OF",
    "OPTIONAL_DEPENDENCY_OF",
    "PROVIDED_DEPENDENCY_OF",
    "TEST_DEPENDENCY_OF",
    "RUNTIME_DEPENDENCY_OF",
    "PREREQUISITE_FOR",
)
_KINDS.update(dict.fromkeys(map(relationship_key, _DEPENDS_TYPES), DEPENDS))
_KINDS.update(dict.fromkeys(map(relationship_key, _DEPENDED_ON_BY_TYPES), DEPENDED_ON_BY))
_KINDS[relationship_key("DESCRIBES")] = DESCRIBES
_KINDS[relationship_key("DESCRIBED_BY")] = DESCRIBED_BY
# Spelling slips seen in real documents, read as what they obviously mean.
_SLIPS: dict[str, str] = {"DESCRIBE": DESCRIBES, "DESCRIBEDBY": DESCRIBED_BY}


@lru_cache(maxsize=1024)  # a document repeats a handful of types many times
def classify_relationship(relationship_type: str) -> tuple[str, bool]:
    """Return (kind, defined): kind is one of the constants above; `defined` is False
    for types outside SPDX 2.3 / 3.0 (a slip such as DESCRIBE, or an invention).

    Unknown `*_DEPENDENCY_OF` spellings are still read as reverse dependencies.
    """
    key = relationship_key(relationship_type)
    kind = _KINDS.get(key)
    if kind is not None:
        return kind, True
    if key in _SLIPS:
        return _SLIPS[key], False
    if key.endswith("DEPENDENCYOF"):
        return DEPENDED_ON_BY, False
    return OTHER, False


def compute_depths(
    children: Mapping[str, Collection[str]],
    roots: Sequence[str],
    listed: Iterable[str] = (),
) -> tuple[dict[str, int], str]:
    """Return ({node: depth}, basis) for a dependency adjacency {node: [dependencies]}.

    `listed` names nodes that have a dependency entry without edges (CycloneDX
    `{"ref": x, "dependsOn": []}`): with the edges' ends, in document order, they are
    the candidates for fallback sources. Basis is "root", "graph-sources" or "unknown".
    """
    if not children:
        return {}, "unknown"
    depths: dict[str, int] = dict.fromkeys(roots, 0)
    if any(root in children for root in roots):
        start, basis = list(roots), "root"
    else:
        has_parent = set(chain.from_iterable(children.values()))
        candidates = dict.fromkeys(listed)
        for source, targets in children.items():
            candidates[source] = None
            candidates.update(dict.fromkeys(targets))
        start = [node for node in candidates if node not in has_parent and node not in depths]
        if not start:  # every graph node sits on a cycle: there is no way in
            return {}, "unknown"
        depths.update(dict.fromkeys(start, 1))
        basis = "graph-sources"
    # Breadth-first, one level at a time: every node of `level` has depth `depth`.
    level, depth = start, depths[start[0]]
    lists = children.get
    while level:
        depth += 1
        below = []
        for node in level:
            for child in lists(node, ()):
                if child not in depths:
                    depths[child] = depth
                    below.append(child)
        level = below
    return depths, basis
