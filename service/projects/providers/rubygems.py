"""RubyGems.org: ``GET {base}/api/v1/gems/{name}.json``, one request per gem.

``source_code_uri`` / ``homepage_uri`` (top level or in ``metadata``) give the
repository, ``metadata.funding_uri`` the funding link, ``authors`` the authors. The gem's
owners (who can publish) are only in a second document per gem (``…/owners.json``), so
they are not asked here: resolution reads them from ecosyste.ms, a hundred gems a request.
"""

from __future__ import annotations

from typing import Any

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
    as_str,
    merge_funding,
    parse_time,
    web_url,
)

DEFAULT_BASE_URL = "https://rubygems.org"


class RubyGemsProvider(BaseProvider):
    """Metadata from the RubyGems.org API."""

    source = "rubygems"
    types = frozenset({"gem"})

    def _fetch(self, ref: PackageRef, cached: CachedEntry | None) -> ProviderResult:
        url = f"{self.base_url}/api/v1/gems/{ref.quoted()}.json"
        data, result = self._get_main(url, cached)
        if result.not_modified:
            return self._not_modified(ref, cached, result)
        if not isinstance(data, dict):
            return self._failure(ref.key, "invalid_shape", self._now())
        return self._success(ref, self.parse(data, url=url), result)

    def parse(self, data: dict[str, Any], url: str | None = None) -> PackageMetadata:
        """Normalize a gem document."""
        meta = as_dict(data.get("metadata"))
        repo = self._repo(
            data.get("source_code_uri"),
            meta.get("source_code_uri"),
            data.get("homepage_uri"),
            meta.get("homepage_uri"),
            data.get("bug_tracker_uri"),
            meta.get("bug_tracker_uri"),
            data.get("changelog_uri"),
        )
        funding = [
            channel
            for link in (meta.get("funding_uri"), data.get("funding_uri"))
            for channel in [channel_from_url(link, source="rubygems")]
            if channel is not None
        ]
        people: list[Person] = []
        authors = as_str(data.get("authors"))
        if authors:
            for author in authors.split(","):
                if author.strip():
                    people.append(Person(name=author.strip(), role="author", source="rubygems"))
        return PackageMetadata(
            repository_url=repo.url if repo else None,
            repository_provenance="metadata" if repo else None,
            homepage=web_url(data.get("homepage_uri")),
            maintainers=tuple(people),
            funding=merge_funding(funding),
            latest_version=as_str(data.get("version")),
            latest_release_at=parse_time(data.get("version_created_at")),
            downloads=as_int(data.get("downloads")),
            downloads_period="total" if as_int(data.get("downloads")) is not None else None,
            raw_source_url=url,
        )
