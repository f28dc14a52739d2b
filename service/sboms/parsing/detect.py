"""Which SBOM format a document is, decided from its content, never its file name."""

from __future__ import annotations

from typing import Any

from .decode import Payload
from .model import SbomError
from .spdx3 import is_spdx3
from .spdx_tagvalue import LOOKS_LIKE_TAG_VALUE

JSON, XML, TAG_VALUE = "json", "xml", "tag-value"
CYCLONEDX, SPDX2, SPDX3 = "cyclonedx", "spdx2", "spdx3"

_NOT_AN_SBOM = (
    "expected a CycloneDX (JSON or XML), SPDX 2 (JSON or tag-value) or SPDX 3 (JSON-LD) document"
)


def syntax_of(payload: Payload) -> str:
    """Return JSON, XML or TAG_VALUE from the first characters of the text."""
    head = payload.head(4096)
    first = head[:1]
    if first in ("{", "["):
        return JSON
    if first == "<":
        return XML
    if LOOKS_LIKE_TAG_VALUE.search(head):
        return TAG_VALUE
    raise SbomError(
        "unknown_format",
        f"The upload is not JSON, XML or SPDX tag-value: {_NOT_AN_SBOM}",
        {"starts_with": head[:40]},
    )


def json_format(data: Any) -> tuple[str, dict[str, Any], str]:
    """Return (format, document, path prefix) for parsed JSON.

    The GitHub dependency-graph export wraps an SPDX 2.3 document as {"sbom": {...}};
    the prefix ("sbom.") keeps field paths in messages true to the upload.
    """
    if not isinstance(data, dict):
        raise SbomError(
            "unknown_format",
            f"Top level: expected a JSON object, got an array or value; {_NOT_AN_SBOM}",
            {},
        )
    if "bomFormat" in data:
        return CYCLONEDX, data, ""
    if "spdxVersion" in data:
        return SPDX2, data, ""
    wrapped = data.get("sbom")
    if isinstance(wrapped, dict) and "spdxVersion" in wrapped:
        return SPDX2, wrapped, "sbom."
    if ("@context" in data or "@graph" in data) and is_spdx3(data):
        return SPDX3, data, ""
    schema = data.get("$schema")
    if isinstance(schema, str) and "cyclonedx" in schema.lower():
        return CYCLONEDX, data, ""
    if data.get("SPDXID") == "SPDXRef-DOCUMENT":
        raise SbomError(
            "unsupported_version",
            "spdxVersion: missing; expected a string such as 'SPDX-2.3'",
            {"field": "spdxVersion"},
        )
    keys = ", ".join(sorted(data)[:8]) or "none"
    raise SbomError(
        "unknown_format",
        "Top level: no bomFormat, spdxVersion or SPDX 3 @context/@graph (keys found: "
        f"{keys}); {_NOT_AN_SBOM}",
        {"keys": sorted(data)[:20]},
    )
