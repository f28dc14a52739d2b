"""Plain data produced by the SBOM reader: limits, errors, components and documents."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from msgspec import Struct


@dataclass(frozen=True)
class ParseLimits:
    """Bounds that keep one upload from exhausting memory or time."""

    max_bytes: int = 50 * 1024 * 1024  # applies to the decompressed size too
    max_nesting: int = 64  # JSON container depth / XML element depth
    max_components: int = 500_000
    # Bytes of SBOMs one company may store per UTC day (None: no limit); checked by ingest.
    max_bytes_per_day: int | None = None


DEFAULT_LIMITS = ParseLimits()


class SbomError(Exception):
    """An upload that cannot be read; nothing of it should be stored.

    `code` is a short snake_case identifier for programs, `message` says where the problem
    is (line/column, JSON field path or XML element) and what was expected.
    """

    def __init__(self, code: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details: dict[str, Any] = details or {}

    def to_dict(self) -> dict[str, Any]:
        """Return the error as JSON-ready data."""
        return {"code": self.code, "message": self.message, "details": dict(self.details)}

    def __repr__(self) -> str:
        return f"SbomError({self.code!r}, {self.message!r})"


class Component(Struct, gc=False):
    """One package (CycloneDX component, SPDX package) as the document states it.

    A msgspec Struct, not a dataclass: a document builds one per package, and a Struct
    is built several times faster (gc=False: it holds strings and tuples, never a cycle).
    """

    ref: str  # document-local id: bom-ref / SPDXID / spdxId, or a synthesized path
    name: str | None
    version: str | None = None
    group: str | None = None  # CycloneDX group (Maven groupId, npm scope ...)
    purls: tuple[str, ...] = ()  # as given in the document
    package_key: str | None = None  # normalized purl identity, see purls.package_identity
    ecosystem: str | None = None  # purl type after aliasing (apk, npm, pypi ...)
    cpe: str | None = None
    hashes: tuple[tuple[str, str], ...] = ()  # (algorithm, value)
    hints: tuple[tuple[str, str], ...] = ()  # (kind, url) for source resolution
    type: str | None = None  # CycloneDX type / SPDX primaryPackagePurpose, lowercased
    scope: str | None = None  # CycloneDX scope (required / optional / excluded)
    depth: int | None = None  # shortest dependency distance from a root; None = unknown

    @property
    def identity(self) -> str:
        """Return the package identity: the package_key, else a lowercased fallback.

        The fallback is `name:<group>/<name>`, plus `|cpe:<vendor>:<product>` when the
        component has a CPE; versions are never part of an identity. A component without
        name or CPE falls back to `ref:<ref>`, which is unique within its document.
        """
        if self.package_key is not None:
            return self.package_key
        parts = []
        if self.name:
            parts.append(f"name:{self.group}/{self.name}" if self.group else f"name:{self.name}")
        if self.cpe:
            vendor_product = _cpe_vendor_product(self.cpe)
            if vendor_product:
                parts.append(f"cpe:{vendor_product}")
        if not parts:
            return f"ref:{self.ref}"
        return "|".join(parts).lower()


def _cpe_vendor_product(cpe: str) -> str | None:
    """Return `vendor:product` of a CPE 2.3 or 2.2 name, dropping the version."""
    if cpe.startswith("cpe:2.3:"):
        parts = cpe.split(":")
        fields = parts[3:5]
    elif cpe.startswith("cpe:/"):
        fields = cpe[5:].split(":")[1:3]
    else:
        return None
    if len(fields) < 2 or not all(fields):
        return None
    return ":".join(fields)


@dataclass(slots=True)
class ParsedSbom:
    """A whole document: its components, dependency graph and what was odd about it."""

    format: str  # "cyclonedx" | "spdx"
    spec_version: str  # "1.6", "SPDX-2.3", "3.0.1"
    encoding: str  # "json" | "xml" | "tag-value" | "json-ld"
    components: list[Component] = field(default_factory=list)
    root_refs: list[str] = field(default_factory=list)
    root_name: str | None = None
    edges: list[tuple[str, str]] = field(default_factory=list)  # distinct, dependency only
    has_dependency_graph: bool = False
    # "root": depth measured from the document's root(s); "graph-sources": the root has
    # no edges, so graph nodes nothing depends on count as depth 1; "unknown": no graph.
    depth_basis: str = "unknown"
    warnings: list[str] = field(default_factory=list)
    serial: str | None = None  # CycloneDX serialNumber
    namespace: str | None = None  # SPDX 2 documentNamespace / SPDX 3 document spdxId
    created: str | None = None  # creation timestamp exactly as given
    tools: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """Return the counts used by tests, the API and the upload report."""
        components = self.components
        return {
            "format": self.format,
            "spec_version": self.spec_version,
            "encoding": self.encoding,
            "components": len(components),
            "with_purl": sum(1 for c in components if c.purls),
            # The key, when there is one, without the property's call (100,000 a document).
            "packages": len({c.package_key or c.identity for c in components}),
            "dependency_edges": len(self.edges),
            "direct": (
                None
                if self.depth_basis == "unknown"
                else sum(1 for c in components if c.depth == 1)
            ),
            "warnings": list(self.warnings),
        }
