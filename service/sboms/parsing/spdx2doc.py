"""The SPDX 2 JSON document as the reader reads it: only its fields, typed by msgspec.

A big SPDX document is mostly fields the reader never looks at (licences, copyright
texts, file checksums ...). Decoded straight into these classes, msgspec skips them, and
every package and relationship becomes one small object read by attribute instead of a
dictionary of every key it has.

The classes refuse nothing a generic decode would accept: every field holds whatever
JSON value the document gives (`Any`), an entry of a list may be any value instead of an
object, and the list itself any value instead of a list; the reader checks the types and
says what it expected, exactly as it does for dictionaries. Documents that do not come
this way (tag-value, the GitHub export's wrapped document, JSON only the standard
parser reads) are converted to the same classes from their dictionaries (`as_document`).
"""

from __future__ import annotations

from typing import Any

import msgspec
from msgspec import UNSET, Struct, field

from .decode import Payload
from .jsondoc import check_nesting
from .model import ParseLimits

_Scalar = str | int | float | bool | None
_NotObject = _Scalar | list[Any]  # any JSON value but an object


# gc=False: the objects hold no cycles, so the collector need not track them.
class ExternalRef(Struct, gc=False):
    referenceType: Any = None
    referenceLocator: Any = None


class Package(Struct, gc=False):
    SPDXID: Any = None
    name: Any = UNSET  # missing, not null, is what tells a draft-format package
    versionInfo: Any = None
    externalRefs: list[ExternalRef | _NotObject] | ExternalRef | _Scalar = None
    checksums: Any = None
    primaryPackagePurpose: Any = None
    downloadLocation: Any = None
    homepage: Any = None
    sourceInfo: Any = None
    # The pre-2.2 draft's names of the fields above.
    packageName: Any = UNSET
    packageVersion: Any = UNSET
    packageDownloadLocation: Any = UNSET
    packageHomepage: Any = UNSET
    packageSourceInfo: Any = UNSET
    line: Any = field(default=None, name="_line")  # tag-value: where the package starts


class Element(Struct, gc=False):
    """A file or snippet: only referable."""

    SPDXID: Any = None


class Relationship(Struct, gc=False):
    spdxElementId: Any = None
    relationshipType: Any = None
    relatedSpdxElement: Any = None
    line: Any = field(default=None, name="_line")


class Document(Struct):
    spdxVersion: Any = UNSET
    bomFormat: Any = UNSET  # present: the document is CycloneDX, whatever else it says
    SPDXID: Any = None
    name: Any = None
    documentNamespace: Any = None
    creationInfo: Any = None
    documentDescribes: Any = None
    packages: list[Package | _NotObject] | dict[str, Any] | _Scalar = None
    files: list[Element | _NotObject] | dict[str, Any] | _Scalar = None
    snippets: list[Element | _NotObject] | dict[str, Any] | _Scalar = None
    relationships: list[Relationship | _NotObject] | dict[str, Any] | _Scalar = None


_DECODER = msgspec.json.Decoder(Document)


def load_document(payload: Payload, limits: ParseLimits) -> Document | None:
    """Decode an SPDX 2 JSON document straight into the classes; None when the upload is
    not one (or is one only the generic path reads: `load_json` then decides, with its
    messages)."""
    raw = payload.raw
    if payload.encoding != "utf-8" or b'"spdxVersion"' not in raw:
        return None
    try:
        # Skipped fields are not checked for UTF-8 by msgspec; the generic path would
        # refuse the upload, so it must be the one to read it.
        if not raw.isascii():
            raw.decode("utf-8")
        document = _DECODER.decode(raw)
    except (ValueError, RecursionError):  # DecodeError, ValidationError, UnicodeDecodeError
        return None
    if document.spdxVersion is UNSET or document.bomFormat is not UNSET:
        return None
    check_nesting(raw, limits)
    return document


def as_document(data: dict[str, Any]) -> Document:
    """The classes' form of a document decoded (or built) as dictionaries."""
    return msgspec.convert(data, Document)
