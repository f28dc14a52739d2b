"""Bytes to text: gzip, byte order marks, UTF-8/16/32, size limits."""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass

from .model import ParseLimits, SbomError

_GZIP_MAGIC = b"\x1f\x8b"
# Longest first: the UTF-32 LE mark starts with the UTF-16 LE one.
_BOMS: tuple[tuple[bytes, str], ...] = (
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xfe\xff", "utf-16-be"),
    (b"\xff\xfe", "utf-16-le"),
)
_FIRST_BOM_BYTES = frozenset(bom[0] for bom, _ in _BOMS)
_CONTENT = re.compile(rb"[^ \t\r\n\x00]")  # anything but whitespace and NUL


@dataclass(slots=True)  # built for every upload: a plain class is cheaper than a frozen one
class Payload:
    """The upload after decompression, with its text encoding worked out."""

    raw: bytes  # decompressed bytes, byte order mark removed
    encoding: str  # Python codec name
    had_bom: bool
    gzipped: bool

    def text(self) -> str:
        """Decode the whole payload; raise SbomError naming the first bad byte."""
        try:
            return self.raw.decode(self.encoding)
        except UnicodeDecodeError as exc:
            line, column = position_of(self.raw, exc.start)
            raise SbomError(
                "bad_encoding",
                f"Invalid {self.encoding.upper()} at line {line}, column {column} "
                f"(byte {exc.start}): expected {self.encoding.upper()} text "
                "(UTF-16 and UTF-32 need a byte order mark)",
                {"line": line, "column": column, "offset": exc.start, "encoding": self.encoding},
            ) from None

    def utf8(self) -> bytes:
        """Return the payload as UTF-8 bytes, re-encoding only when it is not already."""
        return self.raw if self.encoding == "utf-8" else self.text().encode("utf-8")

    def head(self, size: int = 512) -> str:
        """Return the first characters, decoded leniently, for format sniffing."""
        width = 4 if "32" in self.encoding else 2 if "16" in self.encoding else 1
        chunk = self.raw[: size * width]
        return chunk.decode(self.encoding, errors="replace").lstrip("\ufeff \t\r\n")


def position_of(content: str | bytes, offset: int) -> tuple[int, int]:
    """Return the 1-based line and column of an offset into text or bytes."""
    newline = "\n" if isinstance(content, str) else b"\n"
    line = content.count(newline, 0, offset) + 1  # type: ignore[arg-type]
    column = offset - (content.rfind(newline, 0, offset) + 1) + 1  # type: ignore[arg-type]
    return line, column


# A JSON escape of half a surrogate pair without its other half (no character at all).
_LONE_SURROGATE = re.compile(
    rb"\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})"
    rb"|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}"
)


def check_characters(payload: Payload, *, json: bool) -> None:
    """Refuse NUL characters and (in JSON) lone surrogate escapes, naming the place: no
    name, version or purl can hold them, and databases refuse to store them."""
    data = payload.utf8()
    found = [(data.find(b"\x00"), "a NUL character")]
    if json and b"\\" in data:  # no backslash, no escape: the usual big document
        found.append((data.find(b"\\u0000"), "a NUL character (\\u0000)"))
        if b"\\ud" in data or b"\\uD" in data:
            match = _LONE_SURROGATE.search(data)
            if match:
                found.append((match.start(), f"a lone surrogate ({match.group().decode()})"))
    found = [(offset, what) for offset, what in found if offset >= 0]
    if not found:
        return
    offset, what = min(found)
    line, column = position_of(data, offset)
    raise SbomError(
        "invalid_character",
        f"The document contains {what} at line {line}, column {column}: SBOM text cannot "
        "hold it; remove it and upload again",
        {"line": line, "column": column, "offset": offset},
    )


def decode_payload(data: bytes, limits: ParseLimits) -> Payload:
    """Decompress and detect the encoding of an upload.

    Raises SbomError for empty or oversized input and corrupt gzip streams.
    """
    if len(data) > limits.max_bytes:
        raise _too_large(len(data), limits)
    gzipped = data.startswith(_GZIP_MAGIC)
    if gzipped:
        data = _gunzip(data, limits)
    encoding, bom_length = _sniff_encoding(data)
    raw = data[bom_length:] if bom_length else data
    if _CONTENT.search(raw) is None:  # stops at the first character, copies nothing
        raise SbomError("empty", "The upload is empty: expected an SBOM document")
    return Payload(raw=raw, encoding=encoding, had_bom=bool(bom_length), gzipped=gzipped)


def _too_large(size: int | None, limits: ParseLimits) -> SbomError:
    shown = f"{size} bytes" if size is not None else "more than that"
    return SbomError(
        "too_large",
        f"The document is too large: the limit is {limits.max_bytes} bytes "
        f"(decompressed), got {shown}",
        {"limit": limits.max_bytes, "size": size},
    )


def _gunzip(data: bytes, limits: ParseLimits) -> bytes:
    """Decompress gzip members, never producing more than max_bytes (no zip bombs)."""
    budget = limits.max_bytes
    pieces: list[bytes] = []
    produced = 0
    pending = data
    while pending:
        inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        try:
            while pending:
                # Ask for one byte more than the budget so overflow is detectable.
                chunk = inflater.decompress(pending, budget - produced + 1)
                produced += len(chunk)
                if produced > budget:
                    raise _too_large(None, limits)
                pieces.append(chunk)
                pending = inflater.unconsumed_tail
                if inflater.eof:
                    break
        except zlib.error as exc:
            raise SbomError(
                "invalid_gzip",
                f"The gzip stream is corrupt: {exc}; expected a complete gzip file",
            ) from None
        if not inflater.eof:
            raise SbomError(
                "invalid_gzip", "The gzip stream is truncated: expected a complete gzip file"
            )
        # Concatenated members are valid gzip; anything else after the end is padding.
        rest = inflater.unused_data
        pending = rest if rest[:2] == _GZIP_MAGIC else b""
    return b"".join(pieces)


def _sniff_encoding(data: bytes) -> tuple[str, int]:
    """Return (codec, BOM length): a byte order mark wins, else NUL patterns, else UTF-8."""
    if data[:1] and data[0] not in _FIRST_BOM_BYTES and data[1:2] != b"\x00":
        return "utf-8", 0  # the usual upload: no byte order mark, no NUL in the first two bytes
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return codec, len(bom)
    # Without a mark, ASCII-led UTF-16/32 shows NUL bytes around the first character
    # (the rule RFC 4627 gave for JSON; it holds for XML and tag-value as well).
    head = data[:4]
    if len(head) == 4:
        if head[:3] == b"\x00\x00\x00":
            return "utf-32-be", 0
        if head[1:] == b"\x00\x00\x00":
            return "utf-32-le", 0
    if len(head) >= 2:
        if head[0] == 0 and head[1] != 0:
            return "utf-16-be", 0
        if head[0] != 0 and head[1] == 0:
            return "utf-16-le", 0
    return "utf-8", 0
