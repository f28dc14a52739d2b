"""Generate large, realistic SBOMs for benchmarks and load tests.

CycloneDX 1.6 JSON (components with purls across npm, PyPI, Maven and Cargo, every one
with a dependency entry) or SPDX 2.3 JSON (packages with purl externalRefs and
DEPENDS_ON relationships). Output is deterministic for a given count and seed.

    python scripts/generate_sboms.py --kind cyclonedx --count 100000 --out big.cdx.json
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_LICENSES = ("MIT", "Apache-2.0", "BSD-3-Clause", "ISC", "MPL-2.0", "GPL-3.0-only")
_WORDS = (
    "core", "util", "http", "json", "log", "async", "crypto", "parse", "cli", "test",
    "data", "net", "io", "config", "cache", "auth", "time", "text", "image", "db",
)  # fmt: skip
_ROOT_FANOUT = 30  # direct dependencies of the product
_EXTRA_EDGES = (0, 2)  # extra dependencies per component, beyond the one parent


@dataclass(frozen=True)
class _Package:
    ecosystem: str
    group: str | None
    name: str
    version: str
    purl: str


def _packages(count: int, rng: random.Random) -> Iterator[_Package]:
    """Yield `count` distinct package versions; many names come in several versions, as
    in real lock files, so purls repeat by prefix."""
    names = max(1, count * 2 // 3)
    seen: set[tuple[int, str]] = set()
    while len(seen) < count:
        base = rng.randrange(names)
        version = f"{rng.randrange(10)}.{rng.randrange(30)}.{rng.randrange(100)}"
        if (base, version) in seen:  # every purl in a document is unique
            continue
        seen.add((base, version))
        word = f"{_WORDS[base % len(_WORDS)]}-{base}"
        ecosystem = ("npm", "pypi", "maven", "cargo")[base % 4]
        if ecosystem == "npm":
            scope = f"@scope{base % 97}" if base % 5 == 0 else None
            path = f"%40{scope[1:]}/{word}" if scope else word
            purl = f"pkg:npm/{path}@{version}"
            yield _Package("npm", scope, word, version, purl)
        elif ecosystem == "pypi":
            name = f"Py_{word.replace('-', '_').title()}" if base % 3 == 0 else f"py-{word}"
            yield _Package("pypi", None, name, version, f"pkg:pypi/{name}@{version}")
        elif ecosystem == "maven":
            group = f"org.example.{_WORDS[base % 7]}"
            purl = f"pkg:maven/{group}/{word}@{version}?type=jar"
            yield _Package("maven", group, word, version, purl)
        else:
            name = word.replace("-", "_")
            yield _Package("cargo", None, name, version, f"pkg:cargo/{name}@{version}")


def _dependency_lists(count: int, rng: random.Random) -> tuple[list[int], list[list[int]]]:
    """Return (root's direct dependencies, dependencies per component) as a DAG where
    every component is reachable from the root."""
    direct = list(range(min(_ROOT_FANOUT, count)))
    depends: list[list[int]] = [[] for _ in range(count)]
    for child in range(len(direct), count):
        depends[rng.randrange(child)].append(child)  # one parent earlier in the list
    for parent in range(count - 1):
        for _ in range(rng.randint(*_EXTRA_EDGES)):
            child = rng.randrange(parent + 1, count)
            if child not in depends[parent]:
                depends[parent].append(child)
    return direct, depends


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def generate_cyclonedx(n: int, seed: int = 1) -> dict[str, Any]:
    """Return a CycloneDX 1.6 document with `n` components and a full dependency graph."""
    rng = random.Random(seed)
    packages = list(_packages(n, rng))
    direct, depends = _dependency_lists(n, rng)
    root_ref = "pkg:npm/acme-product@1.0.0"
    components = []
    for index, package in enumerate(packages):
        component: dict[str, Any] = {
            "type": "library",
            "bom-ref": package.purl,
            "name": package.name,
            "version": package.version,
            "purl": package.purl,
            "hashes": [{"alg": "SHA-256", "content": _digest(package.purl)}],
            "licenses": [{"license": {"id": _LICENSES[index % len(_LICENSES)]}}],
        }
        if package.group:
            component["group"] = package.group
        if index % 10 == 0:
            component["externalReferences"] = [
                {"type": "vcs", "url": f"https://github.com/example/{package.name}"}
            ]
        components.append(component)
    dependencies = [{"ref": root_ref, "dependsOn": [packages[i].purl for i in direct]}]
    dependencies.extend(
        {"ref": package.purl, "dependsOn": [packages[i].purl for i in depends[index]]}
        for index, package in enumerate(packages)
    )
    return {
        "$schema": "http://cyclonedx.org/schema/bom-1.6.schema.json",
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79",
        "version": 1,
        "metadata": {
            "timestamp": "2025-01-01T00:00:00Z",
            "tools": {"components": [{"type": "application", "name": "generate_sboms"}]},
            "component": {
                "type": "application",
                "bom-ref": root_ref,
                "name": "acme-product",
                "version": "1.0.0",
                "purl": root_ref,
            },
        },
        "components": components,
        "dependencies": dependencies,
    }


def generate_spdx(n: int, seed: int = 1) -> dict[str, Any]:
    """Return an SPDX 2.3 document with `n` packages (the first is the described
    product) and DEPENDS_ON relationships."""
    rng = random.Random(seed)
    product = _Package("npm", None, "acme-product", "1.0.0", "pkg:npm/acme-product@1.0.0")
    packages = [product, *_packages(n - 1, rng)]
    direct, depends = _dependency_lists(n - 1, rng)
    ids = ["SPDXRef-RootPackage"] + [f"SPDXRef-Package-{index}" for index in range(1, n)]
    spdx_packages = []
    for index, package in enumerate(packages):
        spdx_packages.append(
            {
                "name": package.name,
                "SPDXID": ids[index],
                "versionInfo": package.version,
                "downloadLocation": "NOASSERTION",
                "licenseConcluded": _LICENSES[index % len(_LICENSES)],
                "externalRefs": [
                    {
                        "referenceCategory": "PACKAGE-MANAGER",
                        "referenceType": "purl",
                        "referenceLocator": package.purl,
                    }
                ],
            }
        )
    relationships = [
        {
            "spdxElementId": "SPDXRef-DOCUMENT",
            "relationshipType": "DESCRIBES",
            "relatedSpdxElement": ids[0],
        }
    ]

    def depends_on(source: str, target: str) -> dict[str, str]:
        return {
            "spdxElementId": source,
            "relationshipType": "DEPENDS_ON",
            "relatedSpdxElement": target,
        }

    # Component k of the dependency lists is package k + 1 (package 0 is the product).
    relationships.extend(depends_on(ids[0], ids[i + 1]) for i in direct)
    for index, targets in enumerate(depends):
        relationships.extend(depends_on(ids[index + 1], ids[i + 1]) for i in targets)
    return {
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": "acme-product",
        "documentNamespace": "https://example.com/spdx/acme-product-1.0.0",
        "creationInfo": {
            "created": "2025-01-01T00:00:00Z",
            "creators": ["Tool: generate_sboms", "Organization: Example"],
        },
        "documentDescribes": [ids[0]],
        "packages": spdx_packages,
        "relationships": relationships,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kind", choices=("cyclonedx", "spdx"), required=True)
    parser.add_argument("--count", type=int, required=True, help="number of components")
    parser.add_argument("--out", type=Path, required=True, help="file to write")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--indent", type=int, default=None, help="pretty-print (larger file)")
    args = parser.parse_args(argv)
    if args.count < 1:
        parser.error("--count must be at least 1")
    generate = generate_cyclonedx if args.kind == "cyclonedx" else generate_spdx
    document = generate(args.count, args.seed)
    separators = None if args.indent is not None else (",", ":")
    args.out.write_text(json.dumps(document, indent=args.indent, separators=separators))
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes, {args.count} components)")


if __name__ == "__main__":
    main()
