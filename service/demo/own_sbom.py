"""A CycloneDX SBOM of Tributary's own runtime dependencies, from the installed metadata.

Nothing here is invented: names, versions, requirements and project URLs are what each
installed distribution published. The dependency graph follows `Requires-Dist`,
evaluating environment markers and the extras that are actually requested.
"""

from __future__ import annotations

import json
from importlib import metadata

from packaging.markers import UndefinedEnvironmentName
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

ROOT = "tributary"
VCS_LABELS = {"source", "source code", "repository", "code", "github"}


def _purl(name: str, version: str) -> str:
    return f"pkg:pypi/{canonicalize_name(name)}@{version}"


def _requirements(dist: metadata.Distribution, extras: set[str]) -> list[Requirement]:
    wanted = []
    for text in dist.requires or []:
        try:
            requirement = Requirement(text)
        except InvalidRequirement:
            continue
        if requirement.marker is None:
            wanted.append(requirement)
            continue
        for extra in extras or {""}:
            try:
                if requirement.marker.evaluate({"extra": extra}):
                    wanted.append(requirement)
                    break
            except UndefinedEnvironmentName:
                break
    return wanted


def _references(dist: metadata.Distribution) -> list[dict[str, str]]:
    references = []
    for entry in dist.metadata.get_all("Project-URL") or []:
        label, _, url = entry.partition(",")
        url = url.strip()
        if url.startswith(("https://", "http://")):
            kind = "vcs" if label.strip().lower() in VCS_LABELS else "website"
            references.append({"type": kind, "url": url})
    homepage = dist.metadata.get("Home-page")
    if homepage and homepage.startswith(("https://", "http://")):
        references.append({"type": "website", "url": homepage})
    return references


def own_dependencies_sbom(root: str = ROOT) -> bytes:
    """Walk the installed requirements of `root` breadth-first into CycloneDX 1.6 JSON."""
    root_dist = metadata.distribution(root)
    components: dict[str, dict] = {}
    edges: dict[str, set[str]] = {}
    queue: list[tuple[metadata.Distribution, set[str]]] = [(root_dist, set())]
    seen_extras: dict[str, set[str]] = {}
    while queue:
        dist, extras = queue.pop(0)
        ref = _purl(dist.metadata["Name"], dist.version)
        edges.setdefault(ref, set())
        for requirement in _requirements(dist, extras):
            try:
                child = metadata.distribution(requirement.name)
            except metadata.PackageNotFoundError:
                continue  # an optional dependency that is not installed
            child_ref = _purl(child.metadata["Name"], child.version)
            edges[ref].add(child_ref)
            name = canonicalize_name(child.metadata["Name"])
            new_extras = set(requirement.extras) - seen_extras.get(name, set())
            if child_ref not in components or new_extras:
                seen_extras.setdefault(name, set()).update(requirement.extras)
                components[child_ref] = {
                    "type": "library",
                    "bom-ref": child_ref,
                    "name": child.metadata["Name"],
                    "version": child.version,
                    "purl": child_ref,
                    "externalReferences": _references(child),
                }
                queue.append((child, set(requirement.extras)))
    root_ref = _purl(root_dist.metadata["Name"], root_dist.version)
    document = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "version": 1,
        # No timestamp: the same environment gives the same bytes, so reloading is idempotent.
        "metadata": {
            "tools": {"components": [{"type": "application", "name": "tributary-demo"}]},
            "component": {
                "type": "application",
                "bom-ref": root_ref,
                "name": root_dist.metadata["Name"],
                "version": root_dist.version,
                "purl": root_ref,
            },
        },
        "components": sorted(components.values(), key=lambda c: c["bom-ref"]),
        "dependencies": [
            {"ref": ref, "dependsOn": sorted(children)} for ref, children in sorted(edges.items())
        ],
    }
    return json.dumps(document, indent=1).encode()
