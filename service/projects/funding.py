"""Funding manifests → payout channels: ``FUNDING.yml``, ``funding.json``, funding URLs.

Pure parsers over untrusted text.  They never raise on bad input: what cannot be
understood is skipped, so one broken key does not hide the channels next to it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import quote, urlsplit

from service.money import MoneyError, normalize_currency, parse_amount

__all__ = [
    "FUNDING_YML_KEYS",
    "FundingChannel",
    "FundingManifest",
    "FundingPlan",
    "channel_from_url",
    "dedupe_channels",
    "parse_funding_json",
    "parse_funding_yml",
]

MAX_MANIFEST_BYTES = 256 * 1024


@dataclass(frozen=True, slots=True)
class FundingChannel:
    """One place money can be sent.

    ``kind`` is a platform name (``github_sponsors``, ``open_collective``, ``liberapay``,
    ``thanks_dev``, ``polar``, ``patreon``, ``ko_fi``, ``buy_me_a_coffee``, ``tidelift``,
    ``community_bridge``, ``lfx_crowdfunding``, ``issuehunt``, ``otechie``, ``funding_json``
    for a funding.json channel, ``custom`` otherwise); ``handle_or_url`` is the account
    handle where the platform has one, else the URL; ``source`` says where it was read.
    """

    kind: str
    handle_or_url: str
    url: str | None
    source: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FundingChannel:
        return cls(
            kind=str(data["kind"]),
            handle_or_url=str(data["handle_or_url"]),
            url=data.get("url"),
            source=str(data.get("source", "")),
        )


@dataclass(frozen=True, slots=True)
class FundingPlan:
    """A funding.json plan: an ask, in integer minor units of ``currency``."""

    name: str
    amount_minor: int | None
    currency: str | None
    frequency: str
    status: str
    channels: tuple[str, ...] = ()
    guid: str = ""
    source: str = "funding.json"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["channels"] = list(self.channels)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FundingPlan:
        return cls(
            name=str(data.get("name", "")),
            amount_minor=data.get("amount_minor"),
            currency=data.get("currency"),
            frequency=str(data.get("frequency", "")),
            status=str(data.get("status", "")),
            channels=tuple(data.get("channels") or ()),
            guid=str(data.get("guid", "")),
            source=str(data.get("source", "funding.json")),
        )


@dataclass(frozen=True, slots=True)
class FundingManifest:
    """What a funding.json says: who is behind it, which projects, channels and plans."""

    version: str | None
    entity_name: str | None
    entity_type: str | None
    entity_role: str | None
    entity_email: str | None
    entity_url: str | None
    project_repository_urls: tuple[str, ...] = ()
    channels: tuple[FundingChannel, ...] = ()
    plans: tuple[FundingPlan, ...] = ()
    warnings: tuple[str, ...] = field(default=())


# --- URL classification ------------------------------------------------------

# (host, kind, regex over the path capturing the handle)
_URL_RULES: tuple[tuple[str, str, re.Pattern[str]], ...] = (
    ("github.com", "github_sponsors", re.compile(r"^/sponsors/([A-Za-z0-9-]+)/?$")),
    ("opencollective.com", "open_collective", re.compile(r"^/([A-Za-z0-9_.-]+)")),
    ("liberapay.com", "liberapay", re.compile(r"^/([A-Za-z0-9_.-]+)")),
    ("thanks.dev", "thanks_dev", re.compile(r"^/((?:u/)?[a-z]+/[A-Za-z0-9_.-]+)")),
    ("polar.sh", "polar", re.compile(r"^/([A-Za-z0-9_.-]+)")),
    ("patreon.com", "patreon", re.compile(r"^/(?:c/)?([A-Za-z0-9_.-]+)")),
    ("ko-fi.com", "ko_fi", re.compile(r"^/([A-Za-z0-9_.-]+)")),
    ("buymeacoffee.com", "buy_me_a_coffee", re.compile(r"^/([A-Za-z0-9_.-]+)")),
    ("tidelift.com", "tidelift", re.compile(r"^/(?:funding/github|subscription/pkg)/(.+?)/?$")),
    ("issuehunt.io", "issuehunt", re.compile(r"^/r/([A-Za-z0-9_.-]+)")),
    (
        "crowdfunding.lfx.linuxfoundation.org",
        "lfx_crowdfunding",
        re.compile(r"^/projects/([A-Za-z0-9_.-]+)"),
    ),
    (
        "funding.communitybridge.org",
        "community_bridge",
        re.compile(r"^/projects/([A-Za-z0-9_.-]+)"),
    ),
)
_PAGE_WORDS = frozenset({"about", "login", "signup", "search", "explore", "discover", "pricing"})


def channel_from_url(url: object, *, source: str = "url") -> FundingChannel | None:
    """Classify a funding URL; ``None`` for anything that is not an http(s) URL."""
    if not isinstance(url, str):
        return None
    text = url.strip()
    if not text or any(ch.isspace() for ch in text) or len(text) > 2048:
        return None
    if "://" not in text and re.match(r"^[A-Za-z0-9.-]+\.[a-z]{2,}(/|$)", text):
        text = "https://" + text
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    if parts.scheme.lower() not in {"http", "https"} or not parts.hostname:
        return None
    host = parts.hostname.lower()
    if host.startswith("www."):
        host = host[4:]
    canonical = text if parts.scheme.lower() == "https" else "https://" + text.split("://", 1)[1]
    for rule_host, kind, pattern in _URL_RULES:
        if host != rule_host:
            continue
        match = pattern.match(parts.path or "/")
        if match and match.group(1).lower() not in _PAGE_WORDS:
            handle = match.group(1).rstrip("/")
            return FundingChannel(kind, handle, canonical, source)
        break
    return FundingChannel("custom", canonical, canonical, source)


def dedupe_channels(channels: Iterable[FundingChannel]) -> list[FundingChannel]:
    """Drop repeats of the same (kind, handle), keeping the first seen."""
    seen: set[tuple[str, str]] = set()
    out: list[FundingChannel] = []
    for channel in channels:
        key = (channel.kind, channel.handle_or_url.lower().rstrip("/"))
        if key not in seen:
            seen.add(key)
            out.append(channel)
    return out


# --- FUNDING.yml -------------------------------------------------------------

_HANDLE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def _github_url(handle: str) -> str:
    return f"https://github.com/sponsors/{handle}"


def _thanks_dev_url(handle: str) -> str:
    return f"https://thanks.dev/{handle if handle.startswith('u/') else 'u/' + handle}"


def _tidelift_url(handle: str) -> str:
    return f"https://tidelift.com/funding/github/{handle}"


# Every key GitHub documents for FUNDING.yml (plus the retired "otechie"):
# key -> (channel kind, URL builder, handle pattern)
FUNDING_YML_KEYS: dict[str, tuple[str, Any, re.Pattern[str]]] = {
    "github": ("github_sponsors", _github_url, re.compile(r"^[A-Za-z0-9-]{1,39}$")),
    "patreon": ("patreon", lambda h: f"https://www.patreon.com/{h}", _HANDLE_RE),
    "open_collective": ("open_collective", lambda h: f"https://opencollective.com/{h}", _HANDLE_RE),
    "ko_fi": ("ko_fi", lambda h: f"https://ko-fi.com/{h}", _HANDLE_RE),
    "tidelift": ("tidelift", _tidelift_url, re.compile(r"^[a-z-]+/[@A-Za-z0-9_./-]+$")),
    "community_bridge": (
        "community_bridge",
        lambda h: f"https://funding.communitybridge.org/projects/{h}",
        _HANDLE_RE,
    ),
    "liberapay": ("liberapay", lambda h: f"https://liberapay.com/{h}", _HANDLE_RE),
    "issuehunt": ("issuehunt", lambda h: f"https://issuehunt.io/r/{h}", _HANDLE_RE),
    "lfx_crowdfunding": (
        "lfx_crowdfunding",
        lambda h: f"https://crowdfunding.lfx.linuxfoundation.org/projects/{h}",
        _HANDLE_RE,
    ),
    "polar": ("polar", lambda h: f"https://polar.sh/{h}", _HANDLE_RE),
    "buy_me_a_coffee": ("buy_me_a_coffee", lambda h: f"https://buymeacoffee.com/{h}", _HANDLE_RE),
    "thanks_dev": ("thanks_dev", _thanks_dev_url, re.compile(r"^(u/)?[a-z]{2,3}/[A-Za-z0-9_.-]+$")),
    "otechie": ("otechie", lambda h: f"https://otechie.com/{h}", _HANDLE_RE),
}


def parse_funding_yml(
    text: str | bytes | None, *, source: str = "FUNDING.yml"
) -> list[FundingChannel]:
    """Parse a GitHub ``FUNDING.yml`` into channels, skipping junk instead of failing."""
    if text is None:
        return []
    if isinstance(text, bytes):
        if len(text) > MAX_MANIFEST_BYTES:
            return []
        text = text.decode("utf-8", errors="replace")
    if len(text) > MAX_MANIFEST_BYTES:
        return []
    data = _load_yaml_mapping(text)
    channels: list[FundingChannel] = []
    for raw_key, raw_value in data.items():
        key = str(raw_key).strip().lower()
        values = _as_list(raw_value)
        if key == "custom":
            for value in values:
                channel = channel_from_url(value, source=source)
                if channel is not None:
                    channels.append(channel)
            continue
        spec = FUNDING_YML_KEYS.get(key)
        if spec is None:
            continue
        kind, build_url, pattern = spec
        for value in values:
            handle = value.strip().strip("@").strip("/")
            if handle.lower().startswith(("https://", "http://")):
                # People paste a full URL where a handle belongs; keep it if it is one.
                parsed = channel_from_url(handle, source=source)
                if parsed is not None and parsed.kind == kind:
                    channels.append(parsed)
                continue
            if not handle or not pattern.match(handle):
                continue
            channels.append(
                FundingChannel(kind, handle, build_url(quote(handle, safe="/@")), source)
            )
    return dedupe_channels(channels)


def _as_list(value: Any) -> list[str]:
    """A YAML value as a list of non-empty strings (string, list, or junk → [])."""
    if isinstance(value, str):
        items: list[Any] = [value]
    elif isinstance(value, list | tuple):
        items = list(value)
    else:
        return []
    return [str(v).strip() for v in items if isinstance(v, str | int) and str(v).strip()]


def _load_yaml_mapping(text: str) -> dict[str, Any]:
    """Load YAML safely; fall back to a line reader for the flat shape FUNDING.yml uses."""
    try:
        import yaml
    except ImportError:
        return _read_flat_yaml(text)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return _read_flat_yaml(text)
    return data if isinstance(data, dict) else {}


_LINE_RE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\s*:\s*(.*)$")


def _read_flat_yaml(text: str) -> dict[str, Any]:
    """Read ``key: value``, ``key: [a, b]`` and ``- item`` lines; ignore the rest."""
    result: dict[str, Any] = {}
    current: str | None = None
    for raw_line in text.splitlines():
        line = _strip_comment(raw_line).rstrip()
        if not line.strip():
            continue
        if line.lstrip().startswith("- ") and current is not None:
            item = _unquote(line.lstrip()[2:].strip())
            existing = result.get(current)
            if isinstance(existing, list):
                existing.append(item)
            else:
                result[current] = [item]
            continue
        match = _LINE_RE.match(line)
        if not match:
            current = None
            continue
        current, value = match.group(1), match.group(2).strip()
        if value.startswith("[") and value.endswith("]"):
            result[current] = [_unquote(v.strip()) for v in value[1:-1].split(",") if v.strip()]
        elif value:
            result[current] = _unquote(value)
        else:
            result[current] = []
    return result


def _strip_comment(line: str) -> str:
    quote_char = None
    for i, ch in enumerate(line):
        if ch in "'\"":
            quote_char = None if quote_char == ch else (quote_char or ch)
        elif ch == "#" and quote_char is None and (i == 0 or line[i - 1].isspace()):
            return line[:i]
    return line


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


# --- funding.json (FLOSS/fund manifest) --------------------------------------

_FREQUENCIES = frozenset({"one-time", "weekly", "fortnightly", "monthly", "yearly", "other"})


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def parse_funding_json(
    data: str | bytes | Mapping[str, Any] | None, *, source: str = "funding.json"
) -> FundingManifest:
    """Read a FLOSS/fund ``funding.json`` manifest (schema v1) into channels and plans.

    Accepts the raw text or already-decoded JSON.  Numbers in text are read as
    decimals so plan amounts become exact minor units.
    """
    warnings: list[str] = []
    doc: Any = data
    if isinstance(data, bytes | str):
        if len(data) > MAX_MANIFEST_BYTES:
            return _empty_manifest(("funding.json is larger than the limit",))
        try:
            doc = json.loads(data, parse_float=Decimal)
        except (ValueError, RecursionError):
            return _empty_manifest(("funding.json is not valid JSON",))
    if not isinstance(doc, Mapping):
        return _empty_manifest(("funding.json is not a JSON object",))

    entity = _mapping(doc.get("entity"))
    raw_projects = doc.get("projects")
    projects: list[Any] = raw_projects if isinstance(raw_projects, list) else []
    funding = _mapping(doc.get("funding"))

    repo_urls: list[str] = []
    for project in projects:
        if isinstance(project, Mapping):
            url = _url_field(project.get("repositoryUrl"))
            if url:
                repo_urls.append(url)

    channels, channel_ids = _channels(funding.get("channels") or [], source)
    plans = _plans(funding.get("plans") or [], channel_ids, source, warnings)
    return FundingManifest(
        version=_text(doc.get("version")) or None,
        entity_name=_text(entity.get("name")) or None,
        entity_type=_text(entity.get("type")) or None,
        entity_role=_text(entity.get("role")) or None,
        entity_email=_text(entity.get("email")) or None,
        entity_url=_url_field(entity.get("webpageUrl")),
        project_repository_urls=tuple(repo_urls),
        channels=tuple(dedupe_channels(channels)),
        plans=tuple(plans),
        warnings=tuple(warnings),
    )


def _channels(raws: Any, source: str) -> tuple[list[FundingChannel], set[str]]:
    """The manifest's channels, and the guids plans may name them by."""
    channels: list[FundingChannel] = []
    channel_ids: set[str] = set()
    for raw in raws:
        if not isinstance(raw, Mapping):
            continue
        guid = _text(raw.get("guid") or raw.get("id"))
        address = _text(raw.get("address"))
        ctype = _text(raw.get("type")) or "other"
        if guid:
            channel_ids.add(guid)
        classified = channel_from_url(address, source=source) if address else None
        if classified is not None and classified.kind != "custom":
            channels.append(classified)
        elif classified is not None:
            channels.append(FundingChannel("funding_json", address, classified.url, source))
        elif guid:
            # A bank or cheque channel: no URL, the manifest itself tells how to pay.
            channels.append(FundingChannel("funding_json", f"{ctype}:{guid}", None, source))
    return channels, channel_ids


def _plans(raws: Any, channel_ids: set[str], source: str, warnings: list[str]) -> list[FundingPlan]:
    """The manifest's plans; what is wrong with them is added to ``warnings``."""
    plans: list[FundingPlan] = []
    for raw in raws:
        if not isinstance(raw, Mapping):
            continue
        plan, problem = _plan(raw, source)
        if problem:
            warnings.append(problem)
        if plan is not None:
            unknown = [c for c in plan.channels if c not in channel_ids]
            if unknown:
                warnings.append(f"plan {plan.name!r} names unknown channels {unknown}")
            plans.append(plan)
    return plans


def _plan(raw: Mapping[str, Any], source: str) -> tuple[FundingPlan | None, str | None]:
    name = _text(raw.get("name")) or _text(raw.get("guid") or raw.get("id"))
    if not name:
        return None, "a plan without a name or guid was skipped"
    frequency = _text(raw.get("frequency")).lower() or "other"
    if frequency not in _FREQUENCIES:
        frequency = "other"
    status = _text(raw.get("status")).lower() or "active"
    currency: str | None = None
    amount: int | None = None
    problem = None
    raw_currency = _text(raw.get("currency"))
    raw_amount = raw.get("amount")
    if raw_currency:
        try:
            currency = normalize_currency(raw_currency)
        except MoneyError:
            problem = f"plan {name!r} has an unknown currency {raw_currency!r}"
    if (
        currency
        and isinstance(raw_amount, int | float | Decimal | str)
        and not isinstance(raw_amount, bool)
    ):
        try:
            amount = parse_amount(str(raw_amount), currency)
        except MoneyError as exc:
            problem = f"plan {name!r}: {exc}"
    channels = tuple(c for c in (raw.get("channels") or []) if isinstance(c, str))
    guid = _text(raw.get("guid") or raw.get("id"))
    return FundingPlan(name, amount, currency, frequency, status, channels, guid, source), problem


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _url_field(value: Any) -> str | None:
    """funding.json URLs are objects ``{"url": ..., "wellKnown": ...}``; accept strings too."""
    if isinstance(value, Mapping):
        value = value.get("url")
    text = _text(value)
    return text if text.lower().startswith(("https://", "http://")) else None


def _empty_manifest(warnings: tuple[str, ...]) -> FundingManifest:
    return FundingManifest(None, None, None, None, None, None, warnings=warnings)
