"""Pure SBOM reading: bytes of a CycloneDX or SPDX document in, plain data out.

No Flask and no database here; storage, web and API layers build on `parse_sbom`.

Modules: `decode` (gzip, encodings, size), `detect` (format from content), `jsondoc` /
`xmldoc` (hardened parsing with positions and nesting limits), `cyclonedx`,
`cyclonedx_xml`, `spdx2`, `spdx_tagvalue`, `spdx3` (format readers), `assemble` (the
builder every reader feeds: references, warnings, depth), `graph` (relationship kinds,
depth), `purls` (package identity), `model` (the dataclasses).
"""

from .model import Component, ParsedSbom, ParseLimits, SbomError
from .purls import package_identity
from .reader import parse_sbom, read_json

__all__ = [
    "Component",
    "ParseLimits",
    "ParsedSbom",
    "SbomError",
    "package_identity",
    "parse_sbom",
    "read_json",
]
