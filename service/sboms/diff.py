"""What changed between two uploads of a product: packages added, removed, changed.

Pure: the inputs are package identities with the versions each SBOM lists, so the same
function serves the ingest path, tests and any later report. A package is identified by
its package key (purl without version), or by the parser's fallback identity for
components without a purl; one SBOM may list several versions of one package, so each
side is a set of versions and a package "changed" when that set differs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

# Each list in a stored diff is cut at this length; the counts are always complete.
LIST_CAP = 100

Versions = Mapping[str, frozenset[str | None] | set[str | None]]


def versions_by_package(pairs: Iterable[tuple[str, str | None]]) -> dict[str, set[str | None]]:
    """Group (identity, version) pairs into identity -> set of versions."""
    grouped: dict[str, set[str | None]] = {}
    for identity, version in pairs:
        found = grouped.get(identity)
        if found is None:
            grouped[identity] = {version}
        else:
            found.add(version)
    return grouped


def _sorted_versions(versions: Iterable[str | None]) -> list[str | None]:
    return sorted(versions, key=lambda v: (v is not None, v or ""))


def first_diff(package_count: int) -> dict[str, Any]:
    """The diff of a product's first SBOM: every one of its packages is new."""
    return {
        "first": True,
        "previous_sbom_id": None,
        "added_count": package_count,
        "removed_count": 0,
        "changed_count": 0,
        "unchanged_count": 0,
        # Listing every package of a first upload says nothing the inventory does not.
        "added": [],
        "removed": [],
        "changed": [],
        "truncated": False,
    }


def compute_diff(
    previous: Versions | None,
    current: Versions,
    *,
    previous_sbom_id: int | None = None,
    cap: int = LIST_CAP,
) -> dict[str, Any]:
    """Compare two inventories; `previous` None means this is the product's first SBOM.

    Returns JSON-ready data: complete counts, and the lists `added`, `removed` (each
    `{"package", "versions"}`) and `changed` (`{"package", "from", "to"}`) sorted by
    package and cut at `cap` entries, with `truncated` saying whether any list was cut.
    """
    if previous is None:
        return first_diff(len(current))
    added = sorted(current.keys() - previous.keys())
    removed = sorted(previous.keys() - current.keys())
    both = current.keys() & previous.keys()
    changed = sorted(key for key in both if set(current[key]) != set(previous[key]))
    return {
        "first": False,
        "previous_sbom_id": previous_sbom_id,
        "added_count": len(added),
        "removed_count": len(removed),
        "changed_count": len(changed),
        "unchanged_count": len(both) - len(changed),
        "added": [
            {"package": key, "versions": _sorted_versions(current[key])} for key in added[:cap]
        ],
        "removed": [
            {"package": key, "versions": _sorted_versions(previous[key])} for key in removed[:cap]
        ],
        "changed": [
            {
                "package": key,
                "from": _sorted_versions(previous[key]),
                "to": _sorted_versions(current[key]),
            }
            for key in changed[:cap]
        ],
        "truncated": any(len(items) > cap for items in (added, removed, changed)),
    }
