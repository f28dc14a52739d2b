"""Package metadata providers: one module per source, all behind one interface.

``build_providers(client, ...)`` returns ``{source: provider}`` for the sources that
are enabled; base URLs are settings so tests (and GitHub Enterprise Server, or a
registry mirror) point them elsewhere.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from importlib import import_module
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from service.core.outbound_limits import SourcePolicy
from service.projects.providers.base import (
    BaseProvider,
    CachedEntry,
    PackageMetadata,
    PackageRef,
    Person,
    Provider,
    ProviderResult,
    parse_package_key,
)
from service.projects.providers.offline import (
    OfflineProvider,
    SnapshotRecord,
    dump_snapshot,
    load_snapshot,
    offline_providers,
)

if TYPE_CHECKING:
    from service.core.http import OutboundClient
    from service.projects.providers.maven import ParentPoms

log = logging.getLogger(__name__)

__all__ = [
    "SOURCES",
    "SOURCE_POLICIES",
    "BaseProvider",
    "CachedEntry",
    "OfflineProvider",
    "PackageMetadata",
    "PackageRef",
    "Person",
    "Provider",
    "ProviderResult",
    "SnapshotRecord",
    "build_providers",
    "default_base_urls",
    "dump_snapshot",
    "load_snapshot",
    "offline_providers",
    "parse_package_key",
    "provider_class",
    "safe_batch",
    "safe_fetch",
]

# Each source's provider lives in a module of its own, imported only when a provider for
# that source is built: the offline paths (a snapshot) need none of them, nor their client.
_PROVIDERS: dict[str, tuple[str, str]] = {
    "pypi": ("pypi", "PyPIProvider"),
    "npm": ("npm", "NpmProvider"),
    "crates": ("crates", "CratesProvider"),
    "rubygems": ("rubygems", "RubyGemsProvider"),
    "maven": ("maven", "MavenProvider"),
    "nuget": ("nuget", "NuGetProvider"),
    "go": ("golang", "GoProvider"),
    "depsdev": ("depsdev", "DepsDevProvider"),
    "ecosystems": ("ecosystems", "EcosystemsProvider"),
    "github": ("github", "GitHubProvider"),
}
SOURCES = tuple(_PROVIDERS)


def _module(source: str) -> Any:
    return import_module(f"{__name__}.{_PROVIDERS[source][0]}")


def provider_class(source: str) -> type[BaseProvider]:
    """The provider class of ``source`` (one of :data:`SOURCES`), its module imported now."""
    cls: type[BaseProvider] = getattr(_module(source), _PROVIDERS[source][1])
    return cls


def default_base_urls(sources: Iterable[str] = SOURCES) -> dict[str, str]:
    """The default base URL of each source (NuGet's search endpoint as ``nuget_search``)."""
    urls = {source: _module(source).DEFAULT_BASE_URL for source in sources}
    if "nuget" in urls:
        urls["nuget_search"] = _module("nuget").DEFAULT_SEARCH_URL
    return urls


# Sources that ask for gentler treatment than the default per-host limit, wherever they
# are served from: the crates registry's data access policy asks for one request a second.
SOURCE_POLICIES: dict[str, SourcePolicy] = {"crates": SourcePolicy(concurrency=1, interval=1.0)}


def build_providers(
    client: OutboundClient | None,
    *,
    base_urls: Mapping[str, str] | None = None,
    enabled: Iterable[str] | None = None,
    github_token: str | None = None,
    github_web_host: str = "github.com",
    go_vanity_url: Callable[[str], str] | None = None,
    repo_hosts: Iterable[str] = (),
    offline_snapshot: str | Path | IO[str] | None = None,
    now: Callable[[], datetime] | None = None,
    maven_parents: ParentPoms | None = None,
) -> dict[str, Provider]:
    """Build ``{source: provider}``.

    ``base_urls`` overrides entries of :func:`default_base_urls` (``nuget_search`` is
    the NuGet search endpoint; ``github`` the API root, e.g. a GHES
    ``https://ghe.example.com/api/v3`` with ``github_web_host="ghe.example.com"``).
    With ``offline_snapshot`` the providers answer from the snapshot and ``client`` may
    be None. ``maven_parents`` keeps parent POMs for every process (else per process).
    """
    if offline_snapshot is not None:
        providers: dict[str, Provider] = dict(offline_providers(offline_snapshot))
        if enabled is not None:
            wanted = set(enabled)
            providers = {k: v for k, v in providers.items() if k in wanted}
        return providers
    if client is None:
        raise ValueError("build_providers needs an OutboundClient unless offline_snapshot is set")
    sources = list(enabled) if enabled is not None else list(SOURCES)
    unknown = [s for s in sources if s not in _PROVIDERS]
    if unknown:
        raise ValueError(f"unknown metadata sources {unknown}; known: {', '.join(SOURCES)}")
    urls = default_base_urls(sources)
    urls.update(base_urls or {})
    hosts = tuple(repo_hosts) + ((github_web_host,) if github_web_host != "github.com" else ())
    common = {"now": now, "repo_hosts": hosts}
    built: dict[str, Provider] = {}
    for source in sources:
        cls = provider_class(source)
        if source == "github":
            built[source] = cls(
                client,
                base_url=urls["github"],
                token=github_token,
                web_host=github_web_host,
                **common,
            )
        elif source == "nuget":
            built[source] = cls(
                client, base_url=urls["nuget"], search_url=urls.get("nuget_search"), **common
            )
        elif source == "maven":
            built[source] = cls(client, base_url=urls["maven"], parents=maven_parents, **common)
        elif source == "go":
            built[source] = cls(client, base_url=urls["go"], vanity_url=go_vanity_url, **common)
        else:
            built[source] = cls(client, base_url=urls[source], **common)
    return built


def safe_fetch(
    provider: Provider, key: str, cached: CachedEntry | None, version: str | None = None
) -> ProviderResult:
    """The provider's answer; a bug in it becomes an answer too (the run goes on)."""
    try:
        return provider.fetch(key, cached=cached, version=version)
    except Exception:  # a provider bug must not end the run: record it on the package
        log.exception("%s failed on %s", getattr(provider, "source", "?"), key)
        return ProviderResult(source=provider.source, package_key=key, error="internal_error")


def safe_batch(provider: Provider, keys: list[str]) -> dict[str, ProviderResult]:
    try:
        results = provider.fetch_batch(keys)
    except Exception:
        log.exception("%s batch failed", getattr(provider, "source", "?"))
        results = {}
    return {
        key: results.get(key)
        or ProviderResult(source=provider.source, package_key=key, error="internal_error")
        for key in keys
    }
