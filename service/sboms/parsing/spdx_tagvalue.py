"""SPDX 2 tag-value text, turned into the SPDX JSON shape for the SPDX 2 reader.

Entries keep their line number (`_line`) so messages can point at the line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from .assemble import DocumentBuilder
from .model import ParsedSbom, SbomError
from .spdx2 import read_spdx2
from .spdx2doc import as_document

# Tags that can open a tag-value document; used to recognise the format.
LOOKS_LIKE_TAG_VALUE = re.compile(
    r"^(?:SPDXVersion|DataLicense|SPDXID|DocumentName|DocumentNamespace|Creator|Created"
    r"|PackageName)[ \t]*:",
    re.MULTILINE,
)
# Package tags and the SPDX JSON keys they become.
_PACKAGE_KEYS = {
    "PackageVersion": "versionInfo",
    "PackageDownloadLocation": "downloadLocation",
    "PackageHomePage": "homepage",
    "PackageSourceInfo": "sourceInfo",
    "PrimaryPackagePurpose": "primaryPackagePurpose",
}
_DOCUMENT_KEYS = {
    "SPDXVersion": "spdxVersion",
    "DocumentName": "name",
    "DocumentNamespace": "documentNamespace",
}
# Every tag the reader uses; the rest (licences, copyright, file details ...) is skipped.
_READ_TAGS = frozenset(
    {
        *_DOCUMENT_KEYS, *_PACKAGE_KEYS, "Creator", "Created", "PackageName", "FileName",
        "SnippetSPDXID", "LicenseID", "SPDXID", "Relationship", "ExternalRef", "PackageChecksum",
    }
)  # fmt: skip


def read_tag_value(source: str, builder: DocumentBuilder) -> ParsedSbom:
    """Read SPDX tag-value text."""
    document = as_document(tag_value_document(source, builder))
    return read_spdx2(document, builder, encoding="tag-value")


def tag_value_document(source: str, builder: DocumentBuilder) -> dict[str, Any]:
    """Convert tag-value lines to SPDX JSON keys; raise SbomError for an open <text>."""
    doc: dict[str, Any] = {
        "creationInfo": {"creators": []},
        "packages": [],
        "files": [],
        "snippets": [],
        "relationships": [],
    }
    current: dict[str, Any] | None = None  # the package or file being described
    in_elements = False  # once a package/file/licence starts, SPDXID is not the document's
    lines = enumerate(source.splitlines(), 1)  # shared with _text_block, which reads on
    for number, line in lines:
        tag, colon, value = line.partition(":")
        tag = tag.strip()
        if tag[:1] == "#" or not (tag or colon or value):  # a comment or a blank line
            continue
        if not colon or not tag or " " in tag:
            builder.warn("tag_value_syntax", f"line {number}: expected 'Tag: value'")
            continue
        value = value.strip()
        if value.startswith("<text>"):
            value, number = _text_block(lines, number, value)
        if tag not in _READ_TAGS:
            continue
        if tag in _DOCUMENT_KEYS and not in_elements:
            doc.setdefault(_DOCUMENT_KEYS[tag], value)
        elif tag == "Creator":
            doc["creationInfo"]["creators"].append(value)
        elif tag == "Created":
            doc["creationInfo"]["created"] = value
        elif tag == "PackageName":
            current = {"name": value, "_line": number}
            doc["packages"].append(current)
            in_elements = True
        elif tag == "FileName":
            current = {"fileName": value}
            doc["files"].append(current)
            in_elements = True
        elif tag in ("SnippetSPDXID", "LicenseID"):
            if tag == "SnippetSPDXID":
                doc["snippets"].append({"SPDXID": value})
            current = None
            in_elements = True
        elif tag == "SPDXID":
            if current is not None:
                current.setdefault("SPDXID", value)
            elif not in_elements:
                doc.setdefault("SPDXID", value)
        elif tag == "Relationship":
            relationship = _relationship(value, number, builder)
            if relationship is not None:
                doc["relationships"].append(relationship)
        elif current is not None and "name" in current:
            _package_tag(current, tag, value)
    return doc


def _relationship(value: str, number: int, builder: DocumentBuilder) -> dict[str, Any] | None:
    """A `Relationship: <id> <TYPE> <id>` line as SPDX JSON, or None with a warning."""
    parts = value.split()
    if len(parts) != 3:
        builder.warn(
            "tag_value_syntax", f"line {number}: expected 'Relationship: <id> <TYPE> <id>'"
        )
        return None
    return {
        "spdxElementId": parts[0],
        "relationshipType": parts[1],
        "relatedSpdxElement": parts[2],
        "_line": number,
    }


def _text_block(lines: Iterator[tuple[int, str]], start: int, value: str) -> tuple[str, int]:
    """Return the content of a <text>...</text> value and the last line it used."""
    body = value[len("<text>") :]
    if "</text>" in body:
        return body[: body.index("</text>")], start
    for number, line in lines:
        body += "\n" + line
        if "</text>" in line:
            return body[: body.index("</text>")], number
    raise SbomError(
        "invalid_tag_value",
        f"line {start}: a <text> value is never closed; expected </text>",
        {"line": start},
    )


def _package_tag(package: dict[str, Any], tag: str, value: str) -> None:
    if tag in _PACKAGE_KEYS:
        package.setdefault(_PACKAGE_KEYS[tag], value)
    elif tag == "ExternalRef":
        parts = value.split(None, 2)
        if len(parts) == 3:
            package.setdefault("externalRefs", []).append(
                {
                    "referenceCategory": parts[0],
                    "referenceType": parts[1],
                    "referenceLocator": parts[2],
                }
            )
    elif tag == "PackageChecksum":
        algorithm, _, checksum = value.partition(":")
        package.setdefault("checksums", []).append(
            {"algorithm": algorithm.strip(), "checksumValue": checksum.strip()}
        )
