"""CycloneDX XML: the parts the reader needs, turned into the JSON shape.

Converting once and handing the result to the JSON reader keeps one set of rules for
both encodings. Element names are matched without namespace, so the 1.1 dependency-graph
extension (`dg:dependencies`) reads like the native 1.2+ `dependencies`.
"""

from __future__ import annotations

import re
from typing import Any
from xml.etree.ElementTree import Element

from .assemble import DocumentBuilder
from .cyclonedx import read_cyclonedx, spec_version_of
from .model import ParsedSbom, SbomError
from .xmldoc import local_name, namespace_of

_NAMESPACE = re.compile(r"http://cyclonedx\.org/schema/bom/(\d+\.\d+)")
_COMPONENT_TEXT = frozenset({"name", "version", "group", "purl", "cpe", "scope"})


def check_xml_root(root: Element) -> None:
    """Refuse XML that is not a CycloneDX <bom>, naming what it is instead."""
    name = local_name(root.tag)
    if name == "bom":
        return
    namespace = namespace_of(root.tag) or ""
    if name == "RDF" or "spdx" in namespace.lower():
        message = "SPDX RDF/XML is not supported; upload SPDX as JSON or tag-value"
    else:
        message = f"XML root element <{name}>: expected a CycloneDX <bom>"
    raise SbomError("unknown_format", message, {"element": name, "namespace": namespace})


def read_cyclonedx_xml(root: Element, builder: DocumentBuilder) -> ParsedSbom:
    """Read a parsed XML tree whose root is a CycloneDX <bom>."""
    namespace = namespace_of(root.tag) or ""
    match = _NAMESPACE.fullmatch(namespace)
    if match is None:
        raise SbomError(
            "unsupported_version",
            f"<bom>: expected the namespace http://cyclonedx.org/schema/bom/1.x, got "
            f"{namespace or 'none'!r}",
            {"element": "bom", "namespace": namespace},
        )
    version = spec_version_of(match[1], "<bom> namespace", builder)
    doc: dict[str, Any] = {"serialNumber": root.get("serialNumber")}
    for child in root:
        name = local_name(child.tag)
        if name == "metadata":
            doc["metadata"] = _metadata(child)
        elif name == "components":
            doc["components"] = _components(child)
        elif name == "services":
            doc["services"] = _services(child)
        elif name == "dependencies":
            doc["dependencies"] = [
                {
                    "ref": entry.get("ref"),
                    "dependsOn": [target.get("ref") for target in _children(entry, "dependency")],
                }
                for entry in _children(child, "dependency")
            ]
    return read_cyclonedx(doc, builder, spec_version=version, encoding="xml")


def _children(element: Element, name: str) -> list[Element]:
    return [child for child in element if local_name(child.tag) == name]


def _child_text(element: Element, name: str) -> str | None:
    for child in element:
        if local_name(child.tag) == name:
            return child.text
    return None


def _metadata(element: Element) -> dict[str, Any]:
    metadata: dict[str, Any] = {}
    for child in element:
        name = local_name(child.tag)
        if name == "timestamp":
            metadata["timestamp"] = child.text
        elif name == "component":
            metadata["component"] = _component(child)
        elif name == "tools":
            # Legacy <tool> entries, or 1.5+ <components>/<services> of tools.
            tools = [
                {"name": _child_text(tool, "name"), "version": _child_text(tool, "version")}
                for tool in child.iter()
                if local_name(tool.tag) in ("tool", "component", "service")
            ]
            metadata["tools"] = tools
    return metadata


def _components(element: Element) -> list[dict[str, Any]]:
    return [_component(child) for child in _children(element, "component")]


def _component(element: Element) -> dict[str, Any]:
    component: dict[str, Any] = {"type": element.get("type"), "bom-ref": element.get("bom-ref")}
    for child in element:
        name = local_name(child.tag)
        if name in _COMPONENT_TEXT:
            component[name] = child.text
        elif name == "hashes":
            component["hashes"] = [
                {"alg": item.get("alg"), "content": item.text} for item in _children(child, "hash")
            ]
        elif name == "externalReferences":
            component["externalReferences"] = [
                {"type": item.get("type"), "url": _child_text(item, "url")}
                for item in _children(child, "reference")
            ]
        elif name == "components":
            # Depth is bounded by the parser's nesting limit, so recursion is safe.
            component["components"] = _components(child)
    return component


def _services(element: Element) -> list[dict[str, Any]]:
    services = []
    for child in _children(element, "service"):
        nested = [grandchild for grandchild in child if local_name(grandchild.tag) == "services"]
        services.append(
            {
                "bom-ref": child.get("bom-ref"),
                "services": _services(nested[0]) if nested else [],
            }
        )
    return services
