"""SPDX 2.x documents: JSON, the GitHub export, and tag-value converted to the same shape."""

from __future__ import annotations

import re
from collections.abc import Sequence

from msgspec import UNSET
from msgspec.structs import replace

from .assemble import NO_VALUE, DocumentBuilder, as_list, entries, kind_of, pairs, text
from .graph import (
    DEPENDED_ON_BY,
    DEPENDS,
    DESCRIBED_BY,
    DESCRIBES,
    OTHER,
    classify_relationship,
)
from .model import Component, ParsedSbom, SbomError
from .spdx2doc import Document, Element, ExternalRef, Package, Relationship

SUPPORTED_MINOR = 3  # SPDX 2.3
_MEANINGLESS = (OTHER, True)  # a defined relationship type that is not a dependency or root
_VERSION = re.compile(r"SPDX-(\d+)\.(\d+)", re.IGNORECASE)
_VCS_PREFIXES = ("git+", "git://", "git@", "hg+", "svn+", "bzr+")
# Keys of the pre-2.2 draft JSON some tools still write, and the 2.2 key they mean.
_LEGACY_KEYS = {
    "packageName": "name",
    "packageVersion": "versionInfo",
    "packageDownloadLocation": "downloadLocation",
    "packageHomepage": "homepage",
    "packageSourceInfo": "sourceInfo",
}


def package_hints(
    download: str | None, homepage: str | None, source_info: str | None
) -> tuple[tuple[str, str], ...]:
    """Return resolution hints from SPDX package fields, skipping NOASSERTION/NONE.

    Download locations are "vcs" when they use a VCS scheme, else "distribution";
    sourceInfo is free text and only kept when it holds a URL.
    """
    hints = []
    if download and download not in NO_VALUE:
        hints.append(("vcs" if download.startswith(_VCS_PREFIXES) else "distribution", download))
    if homepage and homepage not in NO_VALUE:
        hints.append(("website", homepage))
    if source_info and "://" in source_info:
        hints.append(("source-info", source_info))
    return tuple(hints)


def place(kind: str, index: int, line: object) -> str:
    """Name an entry for messages: its line in tag-value, its JSON path otherwise."""
    return f"line {line}" if line is not None else f"{kind}[{index}]"


def read_spdx2(
    doc: Document, builder: DocumentBuilder, *, encoding: str = "json", prefix: str = ""
) -> ParsedSbom:
    """Read an SPDX 2 document; `prefix` is the path of a wrapped document ("sbom.").

    The document is used up: its packages are let go once read.
    """
    version = _spec_version(doc.spdxVersion, f"{prefix}spdxVersion", builder)
    document_id = text(doc.SPDXID) or "SPDXRef-DOCUMENT"
    builder.add_node(document_id)
    creation = doc.creationInfo
    creation = creation if isinstance(creation, dict) else {}
    created = text(creation.get("created"))
    builder.check_timestamp(created, f"{prefix}creationInfo.created", spdx=True)
    tools = _tools(as_list(creation.get("creators")), builder)

    path = f"{prefix}packages"
    builder.component_place = lambda index: place(path, index, None)
    for index, package in enumerate(entries(doc.packages, "packages")):
        if type(package) is not Package:
            builder.warn(
                "bad_entry",
                f"{path}[{index}]: expected a package object, got {kind_of(package)}",
            )
            continue
        line = package.line  # tag-value: packages are named by their line at once
        _add_package(package, index if line is None else place(path, index, line), builder)
    doc.packages = None  # their memory serves the graph instead of fresh pages
    for key, elements in (("files", doc.files), ("snippets", doc.snippets)):
        for element in entries(elements, key):
            if type(element) is Element and (ref := text(element.SPDXID)):
                builder.add_node(ref)

    for ref in as_list(doc.documentDescribes):
        if isinstance(ref, str):
            builder.add_root(ref)
    _read_relationships(entries(doc.relationships, "relationships"), document_id, prefix, builder)

    described = [
        component.name
        for ref in builder.roots
        if (component := builder.component(ref)) is not None and component.name
    ]
    return builder.build(
        "spdx",
        version,
        encoding,
        root_name=described[0] if described else text(doc.name),
        namespace=text(doc.documentNamespace),
        created=created,
        tools=tools,
    )


def _spec_version(value: object, where: str, builder: DocumentBuilder) -> str:
    match = _VERSION.fullmatch(value.strip()) if isinstance(value, str) else None
    if match is None or match[1] != "2":
        if match is not None and match[1] == "3":
            hint = "; SPDX 3 documents are JSON-LD with @context and @graph"
        elif match is not None:
            hint = f" (got {value!r}: only SPDX 2 is read as JSON or tag-value)"
        elif isinstance(value, int | float) and not isinstance(value, bool):
            hint = f" (got the number {value}, which does not say which 2.x rules apply)"
        else:
            hint = f" (got {value!r})" if value is not None else " (missing)"
        raise SbomError(
            "unsupported_version",
            f"{where}: expected a string such as 'SPDX-2.3'{hint}",
            {"field": where, "value": value if isinstance(value, str | int | float) else None},
        )
    minor = int(match[2])
    if minor > SUPPORTED_MINOR:
        builder.warn(
            "newer_version", f"{where}: {value} is newer than SPDX-2.3; read with 2.3 rules"
        )
    return f"SPDX-2.{minor}"


def _tools(creators: list, builder: DocumentBuilder) -> list[str]:
    tools = []
    for creator in creators:
        if isinstance(creator, dict):  # the draft format: {"Tool": "name"}
            builder.warn(
                "legacy_creator",
                "creationInfo.creators: entries are objects (pre-2.2 draft); expected "
                "strings such as 'Tool: name'",
            )
            creator = "; ".join(f"{k}: {v}" for k, v in creator.items())
        if isinstance(creator, str) and creator.startswith("Tool:"):
            tools.append(creator[5:].strip())
    return tools


def _add_package(package: Package, where: str | int, builder: DocumentBuilder) -> None:
    # The draft format names every package field differently, starting with the name.
    if package.name is UNSET and (
        legacy := [k for k in _LEGACY_KEYS if getattr(package, k) is not UNSET]
    ):
        builder.warn(
            "legacy_keys",
            f"{builder.place_of(where)}: draft SPDX JSON keys ({', '.join(legacy)}) read as "
            "their SPDX 2.2 names",
        )
        package = replace(package, **{_LEGACY_KEYS[key]: getattr(package, key) for key in legacy})
    purls: list[str] = []
    cpe = None
    if references := package.externalRefs:
        for ref in references if type(references) is list else (references,):
            if type(ref) is not ExternalRef:
                continue
            ref_type = ref.referenceType
            locator = ref.referenceLocator
            locator = (locator.strip() or None) if type(locator) is str else text(locator)
            if locator is None or type(ref_type) is not str:
                continue
            ref_type = ref_type.lower()
            if ref_type == "purl":
                purls.append(locator)
            elif cpe is None and ref_type in ("cpe23type", "cpe22type"):
                cpe = locator
    checksums = package.checksums
    purpose = package.primaryPackagePurpose
    purpose = text(purpose) if purpose is not None else None
    download, homepage, source_info = package.downloadLocation, package.homepage, package.sourceInfo
    # Most packages give NOASSERTION and nothing else: no hints to look for.
    hinted = (
        homepage is not None
        or source_info is not None
        or (download is not None and (type(download) is not str or download not in NO_VALUE))
    )
    # The fields every package has, read as `text` reads them, strings at once (50,000
    # packages: a call less each counts).
    spdx_id, name, version = package.SPDXID, package.name, package.versionInfo
    component = Component(
        ref=(spdx_id.strip() if type(spdx_id) is str else text(spdx_id)) or "",
        name=(name.strip() or None) if type(name) is str else text(name),
        version=(version.strip() or None) if type(version) is str else text(version),
        purls=tuple(purls),
        cpe=cpe,
        hashes=tuple(pairs(checksums, "algorithm", "checksumValue")) if checksums else (),
        hints=package_hints(text(download), text(homepage), text(source_info)) if hinted else (),
        type=purpose.lower() if purpose else None,
    )
    # Tag-value places are lines, which already point at the ExternalRef.
    builder.add_component(component, where, None if package.line is not None else "externalRefs")


def _read_relationships(
    relationships: list, document_id: str, prefix: str, builder: DocumentBuilder
) -> None:
    containers = {document_id}
    path = f"{prefix}relationships"
    kinds: dict[str, tuple[str, bool]] = {}  # relationship type -> classification
    add_edge = builder.add_edge
    builder.statement_place = lambda index: place(path, index, relationships[index].line)
    for index, entry in enumerate(relationships):
        if type(entry) is not Relationship:
            builder.warn(
                "bad_relationship", f"{path}[{index}]: expected an object, got {kind_of(entry)}"
            )
            continue
        source, rtype, target = (
            entry.spdxElementId,
            entry.relationshipType,
            entry.relatedSpdxElement,
        )
        if type(source) is str and type(rtype) is str and type(target) is str:  # nearly always
            source, rtype, target = source.strip(), rtype.strip(), target.strip()
        else:
            source, rtype, target = text(source), text(rtype), text(target)
        if not (source and rtype and target):
            builder.warn(
                "bad_relationship",
                f"{place(path, index, entry.line)}: expected spdxElementId, relationshipType "
                "and relatedSpdxElement",
            )
            continue
        kind = kinds.get(rtype) or _kind(rtype, kinds)
        # `in`, several times cheaper than startswith here, also sends the rare id that
        # holds the prefix elsewhere to add_relationship, which reads it the same way.
        if "DocumentRef-" in source or "DocumentRef-" in target:
            pass  # another document's elements: declared by add_relationship below
        elif kind == _MEANINGLESS:
            continue  # CONTAINS, OTHER, COPY_OF...: most of a syft document, nothing to do
        elif kind == _DEPENDS and source not in NO_VALUE and target not in NO_VALUE:
            add_edge(source, target, index)  # the common case, at once
            continue
        add_relationship(
            builder, source, rtype, (target,), place(path, index, entry.line), containers
        )


_DEPENDS = (DEPENDS, True)


def _kind(rtype: str, known: dict[str, tuple[str, bool]]) -> tuple[str, bool]:
    kind = known[rtype] = classify_relationship(rtype)
    return kind


def add_relationship(
    builder: DocumentBuilder,
    source: str,
    rtype: str,
    targets: Sequence[str],
    where: str,
    containers: set[str],
) -> None:
    """Apply one SPDX 2 or 3 relationship: roots, dependency edges, or nothing.

    `containers` are the ids whose DESCRIBES targets are roots (the document, SBOMs).
    Elements of other documents (`DocumentRef-x:SPDXRef-y`) are declared as they come:
    the reference is explicit, so the edge is kept.
    """
    kind, defined = classify_relationship(rtype)
    if not defined:
        meaning = {DESCRIBES: "read as DESCRIBES", DESCRIBED_BY: "read as DESCRIBED_BY"}
        outcome = meaning.get(kind, "read as a dependency" if kind == DEPENDED_ON_BY else "ignored")
        builder.warn(
            f"relationship_type:{rtype}",
            f"{where}: relationship type {rtype!r} is not defined by SPDX; {outcome}",
        )
    if source in NO_VALUE:
        return  # "no such element" in SPDX, not a reference
    external_source = source.startswith("DocumentRef-") and ":" in source
    for target in targets:
        if target in NO_VALUE:
            continue
        if external_source:
            builder.add_node(source)
        if target.startswith("DocumentRef-") and ":" in target:
            builder.add_node(target)
        if kind == DEPENDS:
            builder.add_edge(source, target, where)
        elif kind == DEPENDED_ON_BY:
            builder.add_edge(target, source, where)
        elif kind == DESCRIBES and source in containers:
            builder.add_root(target)
        elif kind == DESCRIBED_BY and target in containers:
            builder.add_root(source)
