"""What an outbound request gives back: a :class:`FetchResult`, or a :class:`FetchError`
whose short ``reason`` callers store and count."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

__all__ = [
    "BlockedAddressError",
    "FetchError",
    "FetchResult",
    "HTTPStatusError",
    "InvalidJSONError",
    "RateLimitedError",
    "RedirectError",
    "ResponseTooLargeError",
    "TransportFailure",
    "with_validators",
]


class FetchError(Exception):
    """An outbound request that did not produce a usable response.

    ``reason`` is short and stable (``timeout``, ``http_404``, ``rate_limited``,
    ``too_large``, ``invalid_json``, ``blocked_address``, ``redirect_loop`` …) so it
    can be stored and counted.
    """

    def __init__(
        self,
        reason: str,
        message: str = "",
        *,
        url: str | None = None,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message or reason)
        self.reason = reason
        self.url = url
        self.status = status
        self.retry_after = retry_after

    def __str__(self) -> str:
        base = super().__str__()
        return f"{base} ({self.url})" if self.url else base


class TransportFailure(FetchError):
    """Timeout, refused connection, reset, or a malformed HTTP exchange."""


class HTTPStatusError(FetchError):
    """A final non-success status (``http_<code>``)."""


class RateLimitedError(FetchError):
    """The server asked us to slow down for longer than we are willing to wait."""


class ResponseTooLargeError(FetchError):
    """The body exceeded the configured size cap (``too_large``)."""


class BlockedAddressError(FetchError):
    """Refused target: non-http(s) scheme or an address that is not public."""


class RedirectError(FetchError):
    """Redirect loop, too many redirects, or a redirect without a usable Location."""


class InvalidJSONError(FetchError):
    """The body was expected to be JSON and was not (``invalid_json``)."""


@dataclass(frozen=True, slots=True)
class FetchResult:
    """A response: ``body`` is None on ``304 Not Modified``."""

    status: int
    body: bytes | None
    etag: str | None
    last_modified: str | None
    not_modified: bool
    headers: Mapping[str, str] = field(default_factory=dict)
    url: str = ""

    def json(self) -> Any:
        """Decode the body as JSON, raising :class:`InvalidJSONError` when it is not."""
        if self.body is None:
            raise InvalidJSONError("invalid_json", "no body to decode", url=self.url)
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            raise InvalidJSONError(
                "invalid_json", f"response is not JSON: {exc}", url=self.url
            ) from None

    @property
    def text(self) -> str:
        """The body decoded as UTF-8 (replacing bad bytes)."""
        return (self.body or b"").decode("utf-8", errors="replace")


def with_validators(
    result: FetchResult, etag: str | None, last_modified: str | None
) -> FetchResult:
    """A 304 may omit validators; keep the ones we sent so the cache stays valid."""
    return replace(
        result, etag=result.etag or etag, last_modified=result.last_modified or last_modified
    )
