"""Where a maintainer is paid: their payout channels (GitHub Sponsors, Open Collective,
thanks.dev, a URL ...), checked as they are added, one of them preferred."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from sqlmodel import Session, col, select

from service.accounts.github import GitHubAPI, GitHubError
from service.accounts.models import User
from service.audit.services import Actor, record
from service.core.addresses import is_forbidden_host
from service.money import MoneyError, parse_amount
from service.projects.claims import LOGIN_PATTERN, ClaimError
from service.projects.funding import channel_from_url
from service.projects.models import PayoutChannel

PAYOUT_KINDS = {
    "github_sponsors": "GitHub Sponsors (your GitHub login)",
    "open_collective": "Open Collective (collective slug)",
    "liberapay": "Liberapay (username)",
    "thanks_dev": "thanks.dev (e.g. gh/login)",
    "polar": "Polar (organisation or user)",
    "funding_json": "funding.json (https URL of the manifest)",
    "custom": "another page (https URL)",
}


_OC_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,98}[a-z0-9])?$")


_HANDLE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


_THANKS = re.compile(r"^(?:u/)?[a-z]{2,3}/[A-Za-z0-9_.-]{1,64}$")


_URL_HANDLES = {
    "open_collective": "https://opencollective.com/{}",
    "liberapay": "https://liberapay.com/{}",
    "thanks_dev": "https://thanks.dev/{}",
    "polar": "https://polar.sh/{}",
}


def validate_https_url(text: str) -> str:
    value = text.strip()
    if not value or len(value) > 500 or any(ch.isspace() for ch in value):
        raise ClaimError("Give an https URL of at most 500 characters.", "value")
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        raise ClaimError(f"{value!r} is not a valid URL.", "value") from None
    host = (parts.hostname or "").lower()
    if parts.scheme.lower() != "https" or not host:
        raise ClaimError("The URL must start with https://.", "value")
    if parts.username or parts.password:
        raise ClaimError("The URL must not carry a user name or password.", "value")
    if is_forbidden_host(host):
        raise ClaimError("The URL must point to a public web address.", "value")
    return value


def normalize_payout(kind: str, value: str, *, github: GitHubAPI) -> tuple[str, str]:
    """(value, url) for a payout channel, or ClaimError saying what is wrong."""
    if kind not in PAYOUT_KINDS:
        raise ClaimError(f"Unknown payout channel {kind!r}.", "kind")
    text = (value or "").strip()
    if kind in ("custom", "funding_json"):
        url = validate_https_url(text)
        return url, url
    if text.lower().startswith(("https://", "http://")):
        parsed = channel_from_url(text)
        if parsed is None or parsed.kind != kind:
            raise ClaimError(f"{text!r} is not a {PAYOUT_KINDS[kind]} link.", "value")
        text = parsed.handle_or_url
    text = text.lstrip("@").strip("/")
    if kind == "github_sponsors":
        if not LOGIN_PATTERN.match(text):
            raise ClaimError(f"{text!r} is not a valid GitHub login.", "value")
        try:
            exists = github.user_exists(text)
        except GitHubError as exc:
            raise ClaimError(
                f"Could not check {text} with GitHub ({exc.reason}).", "value"
            ) from None
        if not exists:
            raise ClaimError(f"GitHub has no account named {text}.", "value")
        return text, f"https://github.com/sponsors/{text}"
    if kind == "open_collective":
        text = text.lower()
        if not _OC_SLUG.match(text):
            raise ClaimError(
                f"{text!r} is not an Open Collective slug (lower-case letters, digits, hyphens).",
                "value",
            )
    elif kind == "thanks_dev":
        if not _THANKS.match(text):
            raise ClaimError(f"{text!r} is not a thanks.dev handle such as gh/login.", "value")
    elif not _HANDLE.match(text):
        raise ClaimError(f"{text!r} is not a valid {PAYOUT_KINDS[kind]} name.", "value")
    return text, _URL_HANDLES[kind].format(text)


def payout_channels(session: Session, user_id: int) -> list[PayoutChannel]:
    return list(
        session.exec(
            select(PayoutChannel)
            .where(PayoutChannel.user_id == user_id)
            .order_by(col(PayoutChannel.preferred).desc(), col(PayoutChannel.id))
        )
    )


def add_payout_channel(
    session: Session,
    actor: Actor,
    user: User,
    kind: str,
    value: str,
    *,
    github: GitHubAPI,
    preferred: bool = False,
    minimum: str = "",
) -> PayoutChannel:
    minimum_minor = parse_minimum(minimum)
    normalized, url = normalize_payout(kind, value, github=github)
    existing = payout_channels(session, user.id)
    if any(c.kind == kind and c.value.lower() == normalized.lower() for c in existing):
        raise ClaimError("You have already added this payout channel.", "value")
    channel = PayoutChannel(
        user_id=user.id,
        kind=kind,
        value=normalized,
        url=url,
        preferred=not existing,
        minimum_minor=minimum_minor,
    )
    session.add(channel)
    session.flush()
    if preferred:
        _prefer(session, user.id, channel.id)
    record(session, actor, "payout.added", obj=channel, kind=kind, value=normalized)
    return channel


def parse_minimum(text: str) -> int | None:
    """'5' or '5.00' (US dollars) → 500 cents; empty → None; ClaimError otherwise."""
    if not (text or "").strip():
        return None
    try:
        minor = parse_amount(text, "USD")
    except MoneyError as exc:
        raise ClaimError(f"Minimum: {exc}.", "minimum") from None
    return minor or None


def set_preferred(session: Session, actor: Actor, user: User, channel_id: int) -> None:
    channel = session.get(PayoutChannel, channel_id)
    if channel is None or channel.user_id != user.id:
        raise ClaimError("No such payout channel.")
    _prefer(session, user.id, channel.id)
    record(session, actor, "payout.preferred", obj=channel, kind=channel.kind)


def _prefer(session: Session, user_id: int, channel_id: int) -> None:
    for channel in payout_channels(session, user_id):
        channel.preferred = channel.id == channel_id
        session.add(channel)


def remove_payout_channel(session: Session, actor: Actor, user: User, channel_id: int) -> None:
    channel = session.get(PayoutChannel, channel_id)
    if channel is None or channel.user_id != user.id:
        raise ClaimError("No such payout channel.")
    was_preferred = channel.preferred
    session.delete(channel)
    session.flush()
    if was_preferred:
        rest = payout_channels(session, user.id)
        if rest:
            _prefer(session, user.id, rest[0].id)
    record(session, actor, "payout.removed", obj=channel, kind=channel.kind)


def preferred_channels(session: Session, user_ids: list[int]) -> dict[int, PayoutChannel]:
    if not user_ids:
        return {}
    rows = session.exec(
        select(PayoutChannel).where(
            col(PayoutChannel.user_id).in_(user_ids), col(PayoutChannel.preferred).is_(True)
        )
    ).all()
    return {c.user_id: c for c in rows}
