"""Small SBOM documents built in tests, and the shared corpus of real ones."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from tests.conftest import SHARED_SBOMS


def cyclonedx(*packages: tuple[str, str | None], name: str = "app", extra: dict | None = None):
    """A CycloneDX 1.5 JSON document whose root depends directly on every package.

    Each package is (purl without version, version), e.g. ("pkg:pypi/requests", "2.31.0");
    a "name:" prefix instead of "pkg:" gives a component without a purl.
    """
    components, refs = [], []
    for index, (base, version) in enumerate(packages):
        ref = f"c{index}"
        component = {"type": "library", "bom-ref": ref, "name": base.rsplit("/", 1)[-1]}
        if version is not None:
            component["version"] = version
        if base.startswith("pkg:"):
            component["purl"] = f"{base}@{version}" if version else base
        else:
            component["name"] = base.removeprefix("name:")
        components.append(component)
        refs.append(ref)
    document = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "version": 1,
        "metadata": {"component": {"type": "application", "name": name, "bom-ref": "root"}},
        "components": components,
        "dependencies": [{"ref": "root", "dependsOn": refs}] + [{"ref": r} for r in refs],
        **(extra or {}),
    }
    return json.dumps(document).encode()


def corpus_file(relative: str) -> bytes:
    """Bytes of a file of the shared corpus; the test is skipped when it is absent."""
    path = SHARED_SBOMS / relative
    if not path.is_file():
        pytest.skip(f"shared SBOM corpus not found at {SHARED_SBOMS}")
    return path.read_bytes()


def corpus_rows() -> list[dict[str, str]]:
    """SOURCES.tsv of the shared corpus (empty when the corpus is absent)."""
    sources = Path(SHARED_SBOMS) / "SOURCES.tsv"
    if not sources.is_file():
        return []
    with sources.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def require_corpus() -> None:
    if not (Path(SHARED_SBOMS) / "SOURCES.tsv").is_file():
        pytest.skip(f"shared SBOM corpus not found at {SHARED_SBOMS}")


def github_spdx(repo: str, *packages: tuple[str, str]) -> dict:
    """An SPDX 2.3 document shaped like GitHub's dependency-graph export of `repo`.

    Packages are (purl without version, version); the repository's package describes the
    document and depends on each of them.
    """
    root = f"SPDXRef-github-{repo.replace('/', '-')}-main"
    spdx_packages = [
        {
            "name": f"com.github.{repo}",
            "SPDXID": root,
            "versionInfo": "main",
            "downloadLocation": f"git+https://github.com/{repo}",
            "licenseDeclared": "NOASSERTION",
            "externalRefs": [
                {
                    "referenceCategory": "PACKAGE-MANAGER",
                    "referenceType": "purl",
                    "referenceLocator": f"pkg:github/{repo}@main",
                }
            ],
        }
    ]
    relationships = [
        {
            "relationshipType": "DESCRIBES",
            "spdxElementId": "SPDXRef-DOCUMENT",
            "relatedSpdxElement": root,
        }
    ]
    for index, (base, version) in enumerate(packages):
        spdx_id = f"SPDXRef-pkg-{index}"
        spdx_packages.append(
            {
                "name": base.split("/", 1)[1],
                "SPDXID": spdx_id,
                "versionInfo": version,
                "downloadLocation": "NOASSERTION",
                "licenseConcluded": "NOASSERTION",
                "externalRefs": [
                    {
                        "referenceCategory": "PACKAGE-MANAGER",
                        "referenceType": "purl",
                        "referenceLocator": f"{base}@{version}",
                    }
                ],
            }
        )
        relationships.append(
            {"relationshipType": "DEPENDS_ON", "spdxElementId": root, "relatedSpdxElement": spdx_id}
        )
    return {
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": f"com.github.{repo}",
        "documentNamespace": f"https://spdx.org/spdxdocs/protobom/{repo}",
        "creationInfo": {
            "creators": ["Tool: protobom-v0.0.13", "Tool: GitHub.com-Dependency-Graph"],
            "created": "2024-05-01T10:00:00Z",
        },
        "packages": spdx_packages,
        "relationships": relationships,
    }


# SOURCES.tsv counts every SPDX 3 package element; Tributary reads the one package an
# SPDX 3 document names as its root as the product itself (like CycloneDX's
# metadata.component), not as a component. Each file's root package, read by hand from
# its rootElement, and whether that package has a purl.
SPDX3_ROOT_PACKAGES = {
    "spdx3-jsonld/spdx-spec-package-sbom.spdx3.json": ("my-package", False),
    "spdx3-jsonld/cargo-hello-server.spdx3.json": ("hello-server-src", True),
    "spdx3-jsonld/maven-enriched.spdx3.json": ("examplemaven", False),
    "spdx3-jsonld/ai-simplehtr.spdx3.json": ("SimpleHTR", False),
}


def expected_counts(row: dict[str, str]) -> tuple[int, int]:
    """(components, components with a purl) Tributary reads from a corpus file."""
    components, purls = int(row["component_count"]), int(row["purl_count"])
    if row["file"] in SPDX3_ROOT_PACKAGES:
        has_purl = SPDX3_ROOT_PACKAGES[row["file"]][1]
        return components - 1, purls - has_purl
    return components, purls
