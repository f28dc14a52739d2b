"""Which hosts outbound requests may reach: only public addresses (the SSRF guard).

Known limit: the check resolves the name before httpx connects, and httpx resolves it
again; a DNS answer that changes in between (rebinding) is not caught here. Deployments
that fetch from attacker-chosen hosts should also egress through a proxy or network
policy that denies private ranges.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

from service.core.fetch_results import BlockedAddressError, TransportFailure

__all__ = ["AddressGuard", "Resolver", "is_forbidden_host", "is_public_address", "system_resolver"]

Resolver = Callable[[str], Iterable[str]]


def is_forbidden_host(host: str) -> bool:
    """True for IP literals, localhost and single-label or internal-only names."""
    host = host.strip("[]").rstrip(".").lower()
    if not host:
        return True
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return True
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal", ".localdomain")):
        return True
    return "." not in host


def is_public_address(address: str) -> bool:
    """True only for globally routable unicast addresses."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def system_resolver(host: str) -> list[str]:
    """Resolve ``host`` with the operating system's resolver."""
    infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    return sorted({str(info[4][0]) for info in infos})


class AddressGuard:
    """Refuses non-web schemes and hosts that resolve to non-public addresses, except
    the explicitly allowed ones; keeps what the resolver said for ``ttl`` seconds."""

    def __init__(
        self,
        allow_hosts: Iterable[str],
        resolver: Resolver,
        ttl: float,
        monotonic: Callable[[], float],
    ) -> None:
        self.allow_hosts = frozenset(h.lower().strip("[]") for h in allow_hosts)
        self._resolver = resolver
        self._ttl = ttl
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[float, tuple[str, ...]]] = {}

    def check(self, url: str) -> str:
        """Refuse non-web schemes and non-public addresses; return the host key."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            raise BlockedAddressError("invalid_url", "malformed URL", url=url) from None
        if parts.scheme.lower() not in {"http", "https"}:
            raise BlockedAddressError("blocked_scheme", "only http and https are fetched", url=url)
        host = (parts.hostname or "").lower().rstrip(".")
        if not host:
            raise BlockedAddressError("invalid_url", "URL has no host", url=url)
        port = port or (443 if parts.scheme.lower() == "https" else 80)
        host_key = f"{host}:{port}"
        if host in self.allow_hosts or host_key in self.allow_hosts:
            return host_key
        try:
            ipaddress.ip_address(host)
        except ValueError:
            addresses = self._resolve(host, url)
        else:
            addresses = (host,)
        if not addresses or not all(is_public_address(a) for a in addresses):
            raise BlockedAddressError(
                "blocked_address", f"{host} does not resolve to a public address", url=url
            )
        return host_key

    def _resolve(self, host: str, url: str) -> tuple[str, ...]:
        now = self._monotonic()
        with self._lock:
            cached = self._cache.get(host)
        if cached and cached[0] > now:
            return cached[1]
        try:
            addresses = tuple(self._resolver(host))
        except (OSError, UnicodeError) as exc:
            raise TransportFailure("dns_error", f"cannot resolve {host}: {exc}", url=url) from None
        with self._lock:
            self._cache[host] = (now + self._ttl, addresses)
        return addresses
