"""ecosyste.ms packages API.

* one package: ``GET {base}/api/v1/registries/{registry}/packages/{name}`` (or, for
  purl types without a registry mapping, ``GET {base}/api/v1/packages/lookup?purl=``,
  which answers a list);
* many packages: ``POST {base}/api/v1/packages/bulk_lookup`` with ``{"purls": [...]}``
  (at most 100 a request), answering a list of packages that carry their ``purl``.

Fields used: ``repository_url``, ``homepage``, ``funding_links``, ``maintainers``,
``latest_release_published_at``, ``versions_count``, ``downloads`` / ``downloads_period``,
``dependent_packages_count``, ``status``, ``advisories``, ``repo_metadata.archived``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from service.core.fetch_results import FetchError
from service.projects.funding import channel_from_url
from service.projects.providers.base import (
    BaseProvider,
    CachedEntry,
    PackageMetadata,
    PackageRef,
    Person,
    ProviderResult,
    as_dict,
    as_int,
    as_list,
    as_str,
    merge_funding,
    parse_package_key,
    parse_time,
    web_url,
)

DEFAULT_BASE_URL = "https://packages.ecosyste.ms"
BULK_LIMIT = 100

REGISTRIES = {
    "pypi": "pypi.org",
    "npm": "npmjs.org",
    "cargo": "crates.io",
    "gem": "rubygems.org",
    "maven": "repo1.maven.org",
    "nuget": "nuget.org",
    "golang": "proxy.golang.org",
}


def _purl_identity(purl: str) -> str | None:
    """A comparable identity for a purl: type + namespace + name, versionless."""
    try:
        ref = parse_package_key(purl)
    except ValueError:
        return None
    name = ref.full_name
    if ref.type in {"pypi", "npm", "nuget", "cargo", "gem"}:
        name = name.lower()
    return f"{ref.type}:{name}"


class EcosystemsProvider(BaseProvider):
    """Metadata from ecosyste.ms (one request per package, or 100 per bulk request)."""

    source = "ecosystems"
    types = frozenset(REGISTRIES)

    def _fetch(self, ref: PackageRef, cached: CachedEntry | None) -> ProviderResult:
        registry = REGISTRIES[ref.type]
        url = f"{self.base_url}/api/v1/registries/{registry}/packages/{ref.quoted()}"
        data, result = self._get_main(url, cached)
        if result.not_modified:
            return self._not_modified(ref, cached, result)
        if isinstance(data, list):  # the lookup endpoint's shape, tolerated here too
            data = next((d for d in data if isinstance(d, dict)), None)
        if not isinstance(data, dict):
            return self._failure(ref.key, "invalid_shape", self._now())
        return self._success(ref, self.parse(data, url), result)

    def fetch_batch(
        self, package_keys: Iterable[str], *, cached: Mapping[str, CachedEntry] | None = None
    ) -> dict[str, ProviderResult]:
        """Bulk lookup by purl, 100 a request; unknown keys come back ``http_404``.

        Bulk answers are not conditional (POST), so ``cached`` is not used; callers
        that hold fresh validators can refresh those packages with :meth:`fetch`.
        """
        keys = list(dict.fromkeys(package_keys))
        results: dict[str, ProviderResult] = {}
        wanted: dict[str, str] = {}
        for key in keys:
            identity = _purl_identity(key)
            if identity is None or not self.supports(key):
                results[key] = self.fetch(key)  # yields the right error without a request
            else:
                wanted[identity] = key
        identities = list(wanted)
        url = f"{self.base_url}/api/v1/packages/bulk_lookup"
        for start in range(0, len(identities), BULK_LIMIT):
            chunk = identities[start : start + BULK_LIMIT]
            started = self._now()
            try:
                response = self.client.post_json(
                    url, {"purls": [wanted[i] for i in chunk]}, source=self.source
                )
                data = response.json()
            except FetchError as exc:
                for identity in chunk:
                    key = wanted[identity]
                    results[key] = self._failure(key, exc.reason, started)
                continue
            found: dict[str, dict[str, Any]] = {}
            for package in as_list(data):
                package = as_dict(package)
                identity = _purl_identity(as_str(package.get("purl")) or "")
                if identity in wanted and identity not in found:
                    found[identity] = package
            for identity in chunk:
                key = wanted[identity]
                ref = parse_package_key(key)
                if identity in found:
                    results[key] = self._success(ref, self.parse(found[identity], url), None)
                else:
                    results[key] = self._failure(key, "http_404", started)
        return {key: results[key] for key in keys}

    def parse(self, data: dict[str, Any], url: str | None = None) -> PackageMetadata:
        """Normalize an ecosyste.ms package object."""
        repo_meta = as_dict(data.get("repo_metadata"))
        repo = self._repo(
            data.get("repository_url"), repo_meta.get("html_url"), data.get("homepage")
        )
        funding = [
            channel
            for link in as_list(data.get("funding_links"))
            for channel in [channel_from_url(link, source="ecosystems")]
            if channel is not None
        ]
        people = []
        for entry in as_list(data.get("maintainers")):
            entry = as_dict(entry)
            login = as_str(entry.get("login"))
            name = as_str(entry.get("name"))
            if login or name:
                people.append(
                    Person(
                        login=login,
                        name=name,
                        email=as_str(entry.get("email")),
                        role=(as_str(entry.get("role")) or "maintainer").lower(),
                        source="ecosystems",
                    )
                )
        status = (as_str(data.get("status")) or "").lower()
        dependents = as_int(data.get("dependent_packages_count"))
        advisories = data.get("advisories")
        archived = repo_meta.get("archived")
        return PackageMetadata(
            repository_url=repo.url if repo else None,
            repository_provenance="metadata" if repo else None,
            homepage=web_url(data.get("homepage")),
            maintainers=tuple(people),
            funding=merge_funding(funding),
            latest_version=as_str(data.get("latest_release_number")),
            latest_release_at=parse_time(data.get("latest_release_published_at")),
            release_count=as_int(data.get("versions_count")),
            publishers_count=len(people) if people else None,
            downloads=as_int(data.get("downloads")),
            downloads_period=as_str(data.get("downloads_period")),
            dependents=dependents,
            deprecated=True if status in {"deprecated", "removed"} else None,
            archived=archived if isinstance(archived, bool) else None,
            owner_type=(as_str(as_dict(repo_meta.get("owner_record")).get("kind")) or "").lower()
            or None,
            advisories=len(advisories) if isinstance(advisories, list) else None,
            raw_source_url=url,
        )
