"""The registry table: which organisation runs each ecosystem's registry, and how to give.

Pure: reads TOML text, checks every entry and answers with plain, frozen data. A bad
entry is refused with the line of its ``[[registry]]`` header, so an operator editing
the file knows where to look.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

PLATFORMS = ("github_sponsors", "open_collective", "custom")
KINDS = ("nonprofit", "company")
_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,38}$")
_ACCOUNT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
_FIELDS = ("id", "name", "ecosystems", "steward", "kind", "channels", "note", "sources")


class TableError(ValueError):
    """An entry of the registry table that cannot be used, with its line."""

    def __init__(self, message: str, line: int | None = None) -> None:
        where = f"line {line}: " if line else ""
        super().__init__(f"registry table, {where}{message}")
        self.line = line
        self.message = message


@dataclass(frozen=True, slots=True)
class Channel:
    platform: str
    handle: str  # the account on the platform, or the page's address for "custom"
    url: str


@dataclass(frozen=True, slots=True)
class Steward:
    """One registry and the organisation that runs it."""

    id: str
    name: str
    ecosystems: tuple[str, ...]
    steward: str
    kind: str
    channels: tuple[Channel, ...]
    note: str
    sources: tuple[str, ...]

    @property
    def key(self) -> str:
        """The recipient's key, beside projects' "github.com/owner/name"."""
        return f"infrastructure/{self.id}"

    @property
    def payable(self) -> bool:
        return bool(self.channels)


@dataclass(frozen=True, slots=True)
class RegistryTable:
    stewards: tuple[Steward, ...]

    def for_ecosystem(self, ecosystem: str) -> Steward | None:
        folded = ecosystem.casefold()
        return next((s for s in self.stewards if folded in s.ecosystems), None)

    def by_key(self, key: str) -> Steward | None:
        return next((s for s in self.stewards if s.key == key), None)


def default_table_text() -> str:
    return resources.files(__package__).joinpath("registries.toml").read_text("utf-8")


def load_table(path: Path | None = None) -> RegistryTable:
    """The operator's table at ``path``, or the one shipped with Tributary."""
    return parse_table(path.read_text("utf-8") if path else default_table_text())


def parse_table(text: str) -> RegistryTable:
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise TableError(f"not valid TOML ({exc})") from None
    unknown = sorted(set(document) - {"registry"})
    if unknown:
        raise TableError(f"unknown top-level key {unknown[0]!r}; expected [[registry]] entries")
    entries = document.get("registry", [])
    if not isinstance(entries, list):
        raise TableError("registry must be an array of tables ([[registry]])")
    lines = _header_lines(text)
    stewards: list[Steward] = []
    seen_ids: set[str] = set()
    seen_ecosystems: dict[str, str] = {}
    for index, entry in enumerate(entries):
        line = lines[index] if index < len(lines) else None
        steward = _steward(entry, line)
        if steward.id in seen_ids:
            raise TableError(f"id {steward.id!r} is used twice", line)
        seen_ids.add(steward.id)
        for ecosystem in steward.ecosystems:
            if ecosystem in seen_ecosystems:
                raise TableError(
                    f"ecosystem {ecosystem!r} is already run by {seen_ecosystems[ecosystem]!r}",
                    line,
                )
            seen_ecosystems[ecosystem] = steward.id
        stewards.append(steward)
    return RegistryTable(tuple(stewards))


def _header_lines(text: str) -> list[int]:
    """The line of each ``[[registry]]`` header, in order (entry n starts at lines[n])."""
    return [
        number
        for number, raw in enumerate(text.splitlines(), start=1)
        if raw.strip().replace(" ", "") == "[[registry]]"
    ]


def _steward(entry: Any, line: int | None) -> Steward:
    if not isinstance(entry, Mapping):
        raise TableError("each [[registry]] entry must be a table", line)
    unknown = sorted(set(entry) - set(_FIELDS))
    if unknown:
        raise TableError(f"unknown field {unknown[0]!r}; expected {', '.join(_FIELDS)}", line)
    missing = [name for name in _FIELDS if name not in entry]
    if missing:
        raise TableError(f"missing field {missing[0]!r}", line)
    ident = _text(entry, "id", line)
    if not _ID.match(ident):
        raise TableError(f"id {ident!r}: use lowercase letters, digits and '-'", line)
    kind = _text(entry, "kind", line)
    if kind not in KINDS:
        raise TableError(f"kind {kind!r}: expected one of {', '.join(KINDS)}", line)
    ecosystems = _texts(entry, "ecosystems", line)
    if not ecosystems:
        raise TableError("ecosystems: name at least one purl type", line)
    sources = _texts(entry, "sources", line)
    if not sources:
        raise TableError("sources: say where these facts come from (at least one address)", line)
    for source in sources:
        _web_address(source, "sources", line)
    raw_channels = entry["channels"]
    if not isinstance(raw_channels, list):
        raise TableError("channels: expected a list of tables", line)
    return Steward(
        id=ident,
        name=_text(entry, "name", line),
        ecosystems=tuple(e.casefold() for e in ecosystems),
        steward=_text(entry, "steward", line),
        kind=kind,
        channels=tuple(_channel(raw, line) for raw in raw_channels),
        note=_text(entry, "note", line),
        sources=tuple(sources),
    )


def _channel(raw: Any, line: int | None) -> Channel:
    if not isinstance(raw, Mapping):
        raise TableError("channels: each channel must be a table", line)
    platform = raw.get("platform")
    if platform not in PLATFORMS:
        raise TableError(
            f"channel platform {platform!r}: expected one of {', '.join(PLATFORMS)}", line
        )
    if platform == "custom":
        url = _web_address(raw.get("url"), "channel url", line)
        return Channel(platform, url, url)
    account = raw.get("account")
    if not isinstance(account, str) or not _ACCOUNT.match(account):
        raise TableError(f"{platform} channel: account {account!r} is not an account name", line)
    base = (
        "https://github.com/sponsors/"
        if platform == "github_sponsors"
        else ("https://opencollective.com/")
    )
    return Channel(platform, account, base + account)


def _text(entry: Mapping[str, Any], name: str, line: int | None) -> str:
    value = entry[name]
    if not isinstance(value, str) or not value.strip():
        raise TableError(f"{name}: expected a non-empty string, got {value!r}", line)
    return value.strip()


def _texts(entry: Mapping[str, Any], name: str, line: int | None) -> list[str]:
    value = entry[name]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise TableError(f"{name}: expected a list of non-empty strings", line)
    return [v.strip() for v in value]


def _web_address(value: Any, name: str, line: int | None) -> str:
    if not isinstance(value, str):
        raise TableError(f"{name}: expected an https address, got {value!r}", line)
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.netloc:
        raise TableError(f"{name}: {value!r} is not an https address", line)
    return value
