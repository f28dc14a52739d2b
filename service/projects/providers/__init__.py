"""Package metadata providers: one module per source, all behind one interface.

``build_providers(client, ...)`` returns ``{source: provider}`` for the sources that
are enabled; base URLs are settings so tests (and GitHub Enterprise Server, or a
registry mirror) point them elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import IO

from service.core.http import OutboundClient
from service.core.outbound_limits import SourcePolicy
from service.projects.providers import (
    crates,
    depsdev,
    ecosystems,
    github,
    golang,
    maven,
    npm,
    nuget,
    pypi,
    rubygems,
)
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

__all__ = [
    "DEFAULT_BASE_URLS",
    "PROVIDER_CLASSES",
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
    "dump_snapshot",
    "load_snapshot",
    "offline_providers",
    "parse_package_key",
]

PROVIDER_CLASSES: dict[str, type[BaseProvider]] = {
    "pypi": pypi.PyPIProvider,
    "npm": npm.NpmProvider,
    "crates": crates.CratesProvider,
    "rubygems": rubygems.RubyGemsProvider,
    "maven": maven.MavenProvider,
    "nuget": nuget.NuGetProvider,
    "go": golang.GoProvider,
    "depsdev": depsdev.DepsDevProvider,
    "ecosystems": ecosystems.EcosystemsProvider,
    "github": github.GitHubProvider,
}
SOURCES = tuple(PROVIDER_CLASSES)

DEFAULT_BASE_URLS: dict[str, str] = {
    "pypi": pypi.DEFAULT_BASE_URL,
    "npm": npm.DEFAULT_BASE_URL,
    "crates": crates.DEFAULT_BASE_URL,
    "rubygems": rubygems.DEFAULT_BASE_URL,
    "maven": maven.DEFAULT_BASE_URL,
    "nuget": nuget.DEFAULT_BASE_URL,
    "nuget_search": nuget.DEFAULT_SEARCH_URL,
    "go": golang.DEFAULT_BASE_URL,
    "depsdev": depsdev.DEFAULT_BASE_URL,
    "ecosystems": ecosystems.DEFAULT_BASE_URL,
    "github": github.DEFAULT_BASE_URL,
}

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
) -> dict[str, Provider]:
    """Build ``{source: provider}``.

    ``base_urls`` overrides entries of :data:`DEFAULT_BASE_URLS` (``nuget_search`` is
    the NuGet search endpoint; ``github`` the API root, e.g. a GHES
    ``https://ghe.example.com/api/v3`` with ``github_web_host="ghe.example.com"``).
    With ``offline_snapshot`` the providers answer from the snapshot and ``client`` may
    be None.
    """
    if offline_snapshot is not None:
        providers: dict[str, Provider] = dict(offline_providers(offline_snapshot))
        if enabled is not None:
            wanted = set(enabled)
            providers = {k: v for k, v in providers.items() if k in wanted}
        return providers
    if client is None:
        raise ValueError("build_providers needs an OutboundClient unless offline_snapshot is set")
    urls = dict(DEFAULT_BASE_URLS)
    urls.update(base_urls or {})
    sources = list(enabled) if enabled is not None else list(SOURCES)
    unknown = [s for s in sources if s not in PROVIDER_CLASSES]
    if unknown:
        raise ValueError(f"unknown metadata sources {unknown}; known: {', '.join(SOURCES)}")
    hosts = tuple(repo_hosts) + ((github_web_host,) if github_web_host != "github.com" else ())
    common = {"now": now, "repo_hosts": hosts}
    built: dict[str, Provider] = {}
    for source in sources:
        cls = PROVIDER_CLASSES[source]
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
        elif source == "go":
            built[source] = cls(client, base_url=urls["go"], vanity_url=go_vanity_url, **common)
        else:
            built[source] = cls(client, base_url=urls[source], **common)
    return built
