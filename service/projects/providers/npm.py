"""npm registry: the packument ``GET {base}/{name}`` (scoped names as ``@scope%2Fname``).

Reads ``repository`` (string or ``{type, url, directory}``), ``maintainers``,
``funding`` (string, object or array) and ``deprecated`` of the latest version, and
``time`` for release recency.  Packuments of packages with thousands of versions can
exceed the size cap; then the latest version document ``{base}/{name}/latest`` is used.
"""

from __future__ import annotations

from typing import Any

from service.core.fetch_results import FetchError
from service.projects.funding import FundingChannel, channel_from_url
from service.projects.providers.base import (
    BaseProvider,
    CachedEntry,
    PackageMetadata,
    PackageRef,
    Person,
    ProviderResult,
    as_dict,
    as_list,
    as_str,
    merge_funding,
    parse_time,
    short_text,
    web_url,
)

DEFAULT_BASE_URL = "https://registry.npmjs.org"


def funding_channels(value: Any, source: str = "npm") -> list[FundingChannel]:
    """npm ``funding``: a URL, ``{type, url}``, or an array of either."""
    items = value if isinstance(value, list) else [value]
    channels = []
    for item in items:
        url = item.get("url") if isinstance(item, dict) else item
        channel = channel_from_url(url, source=source)
        if channel is not None:
            channels.append(channel)
    return channels


def repository_url(value: Any) -> str | None:
    """npm ``repository``: a URL or shorthand string, or ``{type, url, directory}``."""
    if isinstance(value, dict):
        value = value.get("url")
    return as_str(value)


class NpmProvider(BaseProvider):
    """Metadata from the npm registry."""

    source = "npm"
    types = frozenset({"npm"})

    def _fetch(self, ref: PackageRef, cached: CachedEntry | None) -> ProviderResult:
        # The registry's own spelling for scoped names: "@scope%2Fname".
        url = f"{self.base_url}/{ref.quoted().replace('%40', '@', 1)}"
        try:
            data, result = self._get_main(url, cached)
        except FetchError as exc:
            if exc.reason != "too_large":
                raise
            latest_url = f"{url}/latest"
            data, result = self.client.get_json(latest_url, source=self.source)
            if not isinstance(data, dict):
                return self._failure(ref.key, "invalid_shape", self._now())
            return self._success(
                ref, self.parse_version(data, latest_url), result, ["packument too large"]
            )
        if result.not_modified:
            return self._not_modified(ref, cached, result)
        if not isinstance(data, dict):
            return self._failure(ref.key, "invalid_shape", self._now())
        return self._success(ref, self.parse(data, url), result)

    def parse(self, data: dict[str, Any], url: str | None = None) -> PackageMetadata:
        """Normalize a full packument."""
        latest = as_str(as_dict(data.get("dist-tags")).get("latest"))
        versions = as_dict(data.get("versions"))
        manifest = as_dict(versions.get(latest)) if latest else {}
        times = as_dict(data.get("time"))
        base = self.parse_version(manifest, url) if manifest else PackageMetadata()

        repo = self._repo(
            repository_url(manifest.get("repository")),
            repository_url(data.get("repository")),
            manifest.get("homepage"),
            data.get("homepage"),
            as_dict(manifest.get("bugs")).get("url"),
            as_dict(data.get("bugs")).get("url"),
        )
        maintainers = self._people(data.get("maintainers")) or list(base.maintainers)
        funding = merge_funding(base.funding, funding_channels(data.get("funding")))
        release_count = len([v for v in versions if v]) if versions else None
        return PackageMetadata(
            repository_url=repo.url if repo else None,
            repository_provenance="metadata" if repo else None,
            homepage=web_url(data.get("homepage")) or base.homepage,
            description=short_text(data.get("description")) or base.description,
            maintainers=tuple(maintainers),
            funding=funding,
            latest_version=latest,
            latest_release_at=parse_time(times.get(latest)) if latest else None,
            release_count=release_count,
            publishers_count=len(maintainers) if maintainers else None,
            deprecated=base.deprecated,
            raw_source_url=url,
        )

    def parse_version(self, manifest: dict[str, Any], url: str | None = None) -> PackageMetadata:
        """Normalize one version document (``/latest`` or an entry of ``versions``)."""
        repo = self._repo(
            repository_url(manifest.get("repository")),
            manifest.get("homepage"),
            as_dict(manifest.get("bugs")).get("url"),
        )
        maintainers = self._people(manifest.get("maintainers"))
        deprecated = manifest.get("deprecated")
        return PackageMetadata(
            repository_url=repo.url if repo else None,
            repository_provenance="metadata" if repo else None,
            homepage=web_url(manifest.get("homepage")),
            description=short_text(manifest.get("description")),
            maintainers=tuple(maintainers),
            funding=merge_funding(funding_channels(manifest.get("funding"))),
            latest_version=as_str(manifest.get("version")),
            publishers_count=len(maintainers) if maintainers else None,
            deprecated=bool(deprecated) if isinstance(deprecated, str | bool) else False,
            raw_source_url=url,
        )

    def _people(self, value: Any) -> list[Person]:
        people = []
        for entry in as_list(value):
            if isinstance(entry, dict):
                login = as_str(entry.get("name"))
                email = as_str(entry.get("email"))
            elif isinstance(entry, str):
                login, _, rest = entry.partition("<")
                login = login.strip() or None
                email = rest.rstrip(">").strip() or None
            else:
                continue
            if login or email:
                people.append(Person(login=login, email=email, role="maintainer", source="npm"))
        return people
