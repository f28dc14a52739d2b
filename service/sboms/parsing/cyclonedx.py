"""CycloneDX 1.x documents (JSON, and XML converted to the same shape)."""

from __future__ import annotations

import re
from typing import Any

from .assemble import DocumentBuilder, as_list, collection, kind_of, pairs, text
from .model import Component, ParsedSbom, SbomError

SUPPORTED_MINOR = 6  # CycloneDX 1.6
_VERSION = re.compile(r"1\.(\d+)")
_UUID_URN = re.compile(
    r"urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I
)
# externalReferences that point at where a component's source or home is.
_HINT_TYPES = frozenset({"vcs", "website", "distribution"})


def spec_version_of(value: object, where: str, builder: DocumentBuilder) -> str:
    """Return the CycloneDX spec version ("1.x"); refuse anything else."""
    version = text(value)
    match = _VERSION.fullmatch(version) if version else None
    if match is None:
        shown = "missing" if value is None else repr(value)
        raise SbomError(
            "unsupported_version",
            f"{where}: expected a CycloneDX version such as '1.6', got {shown}",
            {"field": where, "value": value if isinstance(value, str | int | float) else None},
        )
    if not isinstance(value, str):
        builder.warn("version_type", f"{where}: the version is a number, expected a string")
    if int(match[1]) > SUPPORTED_MINOR:
        builder.warn(
            "newer_version",
            f"{where}: CycloneDX {version} is newer than 1.{SUPPORTED_MINOR}; read with the "
            f"1.{SUPPORTED_MINOR} rules",
        )
    return version  # type: ignore[return-value]  # matched above, so not None


def read_cyclonedx_json(doc: dict[str, Any], builder: DocumentBuilder) -> ParsedSbom:
    """Read a CycloneDX JSON object (already known to carry bomFormat or a CycloneDX $schema)."""
    bom_format = doc.get("bomFormat")
    if bom_format is None:
        builder.warn("no_bom_format", "bomFormat is missing; the $schema says CycloneDX")
    elif bom_format != "CycloneDX":
        raise SbomError(
            "unknown_format",
            f"bomFormat: expected 'CycloneDX', got {bom_format!r}",
            {"field": "bomFormat", "value": bom_format if isinstance(bom_format, str) else None},
        )
    version = spec_version_of(doc.get("specVersion"), "specVersion", builder)
    return read_cyclonedx(doc, builder, spec_version=version, encoding="json")


def read_cyclonedx(
    doc: dict[str, Any], builder: DocumentBuilder, *, spec_version: str, encoding: str
) -> ParsedSbom:
    """Read components, services and dependencies of a CycloneDX document."""
    serial = text(doc.get("serialNumber"))
    if serial is not None and not _UUID_URN.fullmatch(serial):
        builder.warn(
            "serial_number",
            f"serialNumber: {serial!r} is not a urn:uuid: URN (RFC 4122); kept as given",
        )
    metadata = doc.get("metadata")
    metadata = metadata if isinstance(metadata, dict) else {}
    created = text(metadata.get("timestamp"))
    builder.check_timestamp(created, "metadata.timestamp", spdx=False)

    _read_components(collection(doc, "components"), "components", builder)
    _read_services(collection(doc, "services"), "services", builder)
    dependency_refs = _read_dependencies(collection(doc, "dependencies"), builder)

    root = metadata.get("component")
    root_name = None
    if isinstance(root, dict):
        root_name = text(root.get("name"))
        root_ref = text(root.get("bom-ref"))
        if root_ref is None:
            # Several generators leave the root's bom-ref out but list the product again
            # under its purl; link the two when that purl is a known reference.
            purl = text(root.get("purl"))
            known = purl is not None and (builder.is_known(purl) or purl in dependency_refs)
            root_ref = purl if known and purl is not None else "metadata.component"
        builder.add_node(root_ref)
        builder.add_root(root_ref)
        _read_nested_nodes(root.get("components"), builder)
    elif (own := _own_application(builder, collection(doc, "dependencies"))) is not None:
        builder.add_root(own.ref)
        root_name = own.name
    return builder.build(
        "cyclonedx",
        spec_version,
        encoding,
        root_name=root_name,
        serial=serial,
        created=created,
        tools=_tools(metadata.get("tools")),
    )


def _own_application(builder: DocumentBuilder, dependencies: list) -> Component | None:
    """Without metadata.component, the application the dependency graph starts from:
    the one application component that depends on something and that nothing depends
    on. It stays a component (it is listed), at depth 0, and its dependencies are the
    direct ones."""
    depended_on: set[str] = set()
    sources: set[str] = set()
    for entry in dependencies:
        if isinstance(entry, dict) and (targets := as_list(entry.get("dependsOn"))):
            if ref := text(entry.get("ref")):
                sources.add(ref)
            depended_on.update(t for t in targets if isinstance(t, str))
    found = [
        c
        for c in builder.components
        if c.type == "application" and c.ref in sources and c.ref not in depended_on
    ]
    return found[0] if len(found) == 1 else None


def _read_components(components: list, path: str, builder: DocumentBuilder) -> None:
    """Add every component, nested ones included, in document order (pre-order)."""
    stack = [(path, iter(enumerate(components)))]
    while stack:
        prefix, entries = stack[-1]
        for index, entry in entries:
            where = f"{prefix}[{index}]"
            if not isinstance(entry, dict):
                builder.warn(
                    "bad_entry", f"{where}: expected a component object, got {kind_of(entry)}"
                )
                continue
            _add_component(entry, where, builder)
            children = entry.get("components")
            if children:
                if isinstance(children, list):
                    stack.append((f"{where}.components", iter(enumerate(children))))
                    break
                builder.warn(
                    "bad_entry", f"{where}.components: expected an array, got {kind_of(children)}"
                )
        else:
            stack.pop()


def _add_component(entry: dict[str, Any], where: str, builder: DocumentBuilder) -> None:
    get = entry.get
    purl = get("purl")
    purl_text = text(purl)
    if purl_text is None and purl not in (None, ""):
        builder.warn("bad_purl", f"{where}.purl: expected a string, got {kind_of(purl)}")
    hashes: tuple[tuple[str, str], ...] = ()
    if listed := get("hashes"):
        hashes = tuple(pairs(listed, "alg", "content"))
    hints: tuple[tuple[str, str], ...] = ()
    if listed := get("externalReferences"):
        hints = tuple(pairs(listed, "type", "url", only=_HINT_TYPES))
    builder.add_component(
        Component(
            ref=text(get("bom-ref")) or "",
            name=text(get("name")),
            version=text(get("version")),
            group=text(get("group")),
            purls=(purl_text,) if purl_text else (),
            cpe=text(get("cpe")),
            hashes=hashes,
            hints=hints,
            type=text(get("type")),
            scope=text(get("scope")),
        ),
        where,
        "purl",
    )


def _read_services(services: list, path: str, builder: DocumentBuilder) -> None:
    """Services can be dependency targets: record their refs as elements."""
    stack = [(path, services)]
    while stack:
        prefix, entries = stack.pop()
        for index, entry in enumerate(entries):
            if not isinstance(entry, dict):
                continue
            ref = text(entry.get("bom-ref"))
            if ref is not None:
                builder.add_node(ref)
            children = entry.get("services")
            if isinstance(children, list):
                stack.append((f"{prefix}[{index}].services", children))


def _read_nested_nodes(components: object, builder: DocumentBuilder) -> None:
    """Components nested under metadata.component are referable but not counted."""
    stack = [components]
    while stack:
        for entry in as_list(stack.pop()):
            if isinstance(entry, dict):
                ref = text(entry.get("bom-ref"))
                if ref is not None:
                    builder.add_node(ref)
                stack.append(entry.get("components"))


def _read_dependencies(dependencies: list, builder: DocumentBuilder) -> set[str]:
    """Record dependsOn edges; return the refs that have a dependency entry."""
    refs: set[str] = set()
    for index, entry in enumerate(dependencies):
        where = f"dependencies[{index}]"
        if not isinstance(entry, dict):
            builder.warn("bad_dependency", f"{where}: expected an object, got {kind_of(entry)}")
            continue
        ref = text(entry.get("ref"))
        if ref is None:
            builder.warn("bad_dependency", f"{where}.ref: missing or empty; the entry is ignored")
            continue
        refs.add(ref)
        builder.list_entry(ref)
        targets = entry.get("dependsOn")
        if not targets:
            continue
        if type(targets) is list and all(type(target) is str for target in targets):
            builder.add_edges(ref, targets, f"{where}.dependsOn")
            continue
        # Slow path: the schema says strings; some generators write {"ref": ...} objects.
        for position, target in enumerate(as_list(targets)):
            target_ref = text(target.get("ref") if isinstance(target, dict) else target)
            if target_ref is None:
                builder.warn(
                    "bad_dependency",
                    f"{where}.dependsOn[{position}]: expected a bom-ref string",
                )
                continue
            builder.add_edge(ref, target_ref, f"{where}.dependsOn[{position}]")
    return refs


def _tools(tools: object) -> list[str]:
    """Tool names: the legacy array of tools, or 1.5+ {components, services}."""
    if isinstance(tools, dict):
        entries = as_list(tools.get("components")) + as_list(tools.get("services"))
    else:
        entries = as_list(tools)
    names = []
    for entry in entries:
        if isinstance(entry, dict) and (name := text(entry.get("name"))):
            version = text(entry.get("version"))
            names.append(f"{name} {version}" if version else name)
    return names
