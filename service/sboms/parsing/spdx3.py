"""SPDX 3.0 JSON-LD: a flat @graph of elements (or one element), read without a
JSON-LD processor.

Types and properties are matched by local name, so `software_Package`,
`Software/Package` and full IRIs all count as packages, and `software_packageUrl` and
`packageUrl` both give a purl. References may be ids or inline objects.
"""

from __future__ import annotations

import re
from typing import Any

from .assemble import DocumentBuilder, as_list, text
from .graph import DESCRIBES, classify_relationship
from .model import Component, ParsedSbom, SbomError
from .spdx2 import add_relationship, package_hints

_PACKAGES = frozenset({"Package", "AIPackage", "DatasetPackage"})
_CONTAINERS = frozenset({"SpdxDocument", "Sbom", "Bom", "Bundle"})
_RELATIONSHIPS = frozenset({"Relationship", "LifecycleScopedRelationship"})
_CONTEXT_VERSION = re.compile(r"/rdf/(3\.\d+(?:\.\d+)?)/")


def is_spdx3(doc: dict[str, Any]) -> bool:
    """Return True for JSON-LD that uses the SPDX 3 context or element types."""
    context = doc.get("@context")
    contexts = [c for c in as_list(context) if isinstance(c, str)]
    if any("spdx" in c.lower() for c in contexts):
        return True
    graph = doc.get("@graph")
    elements = graph if isinstance(graph, list) else [doc]
    return any(
        isinstance(e, dict) and _local_type(e) in ("CreationInfo", "SpdxDocument")
        for e in elements[:50]
    )


# The graph's objects with their place in it and their local type name.
_Elements = list[tuple[int, dict[str, Any], str]]


def read_spdx3(doc: dict[str, Any], builder: DocumentBuilder) -> ParsedSbom:
    """Read an SPDX 3 JSON-LD document."""
    graph = doc.get("@graph", [doc])
    if not isinstance(graph, list):
        raise SbomError("invalid_document", "@graph: expected an array of elements", {})
    typed = [
        (index, element, _local_type(element))
        for index, element in enumerate(graph)
        if isinstance(element, dict)
    ]
    by_id = _by_id(typed)
    document = next((e for _, e, t in typed if t == "SpdxDocument"), None)
    creation = _creation_info(typed, by_id, document)
    version = _spec_version(creation, doc.get("@context"))
    created = text(creation.get("created"))
    builder.check_timestamp(created, "CreationInfo.created", spdx=True)

    containers = {ref for _, e, t in typed if t in _CONTAINERS and (ref := _id_of(e))}
    roots = _declared_roots(typed, containers)
    # The package the document is about is the product itself, as CycloneDX's
    # metadata.component is: an element of the graph, not one of its components. Only
    # when one package is the root; several root packages are all listed.
    own = [ref for ref in roots if _local_type(by_id.get(ref, {})) in _PACKAGES]
    own_ref = own[0] if len(own) == 1 else None
    root_name = text(by_id[own_ref].get("name")) if own_ref else None

    names: dict[str, str | None] = {}
    for index, element, kind in typed:
        ref = _id_of(element)
        if kind in _PACKAGES and ref != own_ref:
            component = _add_package(element, ref, f"@graph[{index}]", by_id, builder)
            names[component.ref] = component.name
        elif ref is not None:
            builder.add_node(ref)
    for imported in as_list(document.get("import")) if document else []:
        if isinstance(imported, dict) and (ref := text(imported.get("externalSpdxId"))):
            builder.add_node(ref)

    for ref in roots:
        builder.add_root(ref)
    _add_relationships(typed, builder, containers)

    described = [names[ref] for ref in builder.roots if names.get(ref)]
    document = document or {}
    return builder.build(
        "spdx",
        version,
        "json-ld",
        root_name=root_name or (described[0] if described else text(document.get("name"))),
        namespace=_id_of(document),
        created=created,
        tools=[name for _, e, t in typed if t == "Tool" and (name := text(e.get("name")))],
    )


def _by_id(typed: _Elements) -> dict[str, dict[str, Any]]:
    by_id: dict[str, dict[str, Any]] = {}
    for _, element, _ in typed:
        # An element may carry both ids (sbom-tool gives its CreationInfo a blank-node
        # @id that everything else points at, and an spdxId): either one finds it.
        for key in ("spdxId", "@id"):
            if (ref := text(element.get(key))) is not None:
                by_id.setdefault(ref, element)
    return by_id


def _creation_info(
    typed: _Elements,
    by_id: dict[str, dict[str, Any]],
    document: dict[str, Any] | None,
) -> dict[str, Any]:
    """The document's creation info, else the first one declared, else one given inline."""
    creation = _resolve(document.get("creationInfo"), by_id) if document else None
    creation = creation or next((e for _, e, t in typed if t == "CreationInfo"), None)
    return creation or next(
        (info for _, e, _ in typed if (info := _resolve(e.get("creationInfo"), by_id))), {}
    )


def _add_relationships(
    typed: _Elements,
    builder: DocumentBuilder,
    containers: set[str],
) -> None:
    for index, element, kind in typed:
        if kind not in _RELATIONSHIPS:
            continue
        where = f"@graph[{index}]"
        source = _ref_of(element.get("from"))
        rtype = text(element.get("relationshipType"))
        targets = [ref for ref in map(_ref_of, as_list(element.get("to"))) if ref is not None]
        if source is None or rtype is None:
            builder.warn("bad_relationship", f"{where}: expected 'from' and 'relationshipType'")
            continue
        add_relationship(builder, source, rtype, targets, where, containers)


def _declared_roots(typed: _Elements, containers: set[str]) -> list[str]:
    """What the document and its SBOMs name as their subject: rootElement entries and
    the targets of their `describes` relationships, in document order."""
    roots: list[str] = []
    for _, element, kind in typed:
        if kind in _CONTAINERS:
            found = [_ref_of(root) for root in as_list(element.get("rootElement"))]
        elif kind in _RELATIONSHIPS and _ref_of(element.get("from")) in containers:
            rtype = text(element.get("relationshipType")) or ""
            if classify_relationship(rtype)[0] != DESCRIBES:
                continue
            found = [_ref_of(target) for target in as_list(element.get("to"))]
        else:
            continue
        roots.extend(r for r in found if r is not None and r not in containers and r not in roots)
    return roots


def _spec_version(creation: dict[str, Any], context: object) -> str:
    version = text(creation.get("specVersion"))
    if version is None:
        for entry in as_list(context):
            match = _CONTEXT_VERSION.search(entry) if isinstance(entry, str) else None
            if match:
                version = match[1]
                break
    if version is None or not version.startswith("3."):
        found = f"got {version!r}" if version else "found none in CreationInfo or @context"
        raise SbomError(
            "unsupported_version",
            f"CreationInfo.specVersion: expected an SPDX 3 version such as '3.0.1', {found}",
            {"field": "CreationInfo.specVersion", "value": version},
        )
    return version


def _add_package(
    element: dict[str, Any],
    ref: str | None,
    where: str,
    by_id: dict[str, dict[str, Any]],
    builder: DocumentBuilder,
) -> Component:
    purls: list[str] = []
    if purl := text(_prop(element, "packageUrl")):
        purls.append(purl)
    cpe = None
    for item in as_list(element.get("externalIdentifier")):
        identifier = _resolve(item, by_id)
        if identifier is None:
            continue
        kind = identifier.get("externalIdentifierType")
        value = text(identifier.get("identifier"))
        if value is None:
            continue
        # "packageUrl" in the spec; Microsoft's sbom-tool writes "purl".
        if kind in ("packageUrl", "purl") and value not in purls:
            purls.append(value)
        elif kind in ("cpe23", "cpe22") and cpe is None:
            cpe = value
    hashes = tuple(
        (algorithm, value)
        for item in as_list(element.get("verifiedUsing"))
        if (resolved := _resolve(item, by_id)) is not None
        and (algorithm := text(resolved.get("algorithm")))
        and (value := text(resolved.get("hashValue")))
    )
    hints = package_hints(
        text(_prop(element, "downloadLocation")),
        text(_prop(element, "homePage")),
        text(_prop(element, "sourceInfo")),
    )
    for item in as_list(element.get("externalRef")):
        resolved = _resolve(item, by_id)
        if resolved is not None and resolved.get("externalRefType") == "vcs":
            hints += tuple(("vcs", url) for url in as_list(resolved.get("locator")) if text(url))
    purpose = text(_prop(element, "primaryPurpose"))
    component = Component(
        ref=ref or "",
        name=text(element.get("name")),
        version=text(_prop(element, "packageVersion")),
        purls=tuple(purls),
        cpe=cpe,
        hashes=hashes,
        hints=hints,
        type=purpose.lower() if purpose else None,
    )
    return builder.add_component(component, where, "software_packageUrl")


def _prop(element: dict[str, Any], name: str) -> Any:
    """Return a software-profile property under its prefixed or bare name."""
    value = element.get(f"software_{name}")
    return element.get(name) if value is None else value


def _local_type(element: dict[str, Any]) -> str:
    kind = element.get("type", element.get("@type"))
    if isinstance(kind, list):
        kind = kind[0] if kind else None
    if not isinstance(kind, str):
        return ""
    for separator in "/#:":
        kind = kind.rpartition(separator)[2]
    return kind.rpartition("_")[2]


def _id_of(element: dict[str, Any]) -> str | None:
    return text(element.get("spdxId")) or text(element.get("@id"))


def _ref_of(value: object) -> str | None:
    if isinstance(value, dict):
        return _id_of(value)
    return text(value)


def _resolve(value: object, by_id: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    if isinstance(value, dict):
        return value
    if isinstance(value, str):
        return by_id.get(value)
    return None
