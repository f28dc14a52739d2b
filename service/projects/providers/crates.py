"""The crates registry API: ``GET {base}/api/v1/crates/{name}``.

``crate.repository`` / ``crate.homepage`` give the repository.  The people are the
versions' ``published_by`` users (GitHub logins), newest publication first: the ones who
actually publish, read from the same document.  Only a crate whose versions name no
publisher (published before the registry recorded them) costs a second request, to
``…/{name}/owners``.  The registry asks for at most one request a second per client, so
the app configures a host limit of 1 for it.
"""

from __future__ import annotations

from typing import Any

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
    parse_time,
    web_url,
)

DEFAULT_BASE_URL = "https://crates.io"


class CratesProvider(BaseProvider):
    """Metadata from the crates registry API."""

    source = "crates"
    types = frozenset({"cargo"})

    def _fetch(self, ref: PackageRef, cached: CachedEntry | None) -> ProviderResult:
        url = f"{self.base_url}/api/v1/crates/{ref.quoted()}"
        data, result = self._get_main(url, cached)
        if result.not_modified:
            return self._not_modified(ref, cached, result)
        if not isinstance(data, dict) or not isinstance(data.get("crate"), dict):
            return self._failure(ref.key, "invalid_shape", self._now())
        warnings: list[str] = []
        metadata = self.parse(data, None, url)
        if not metadata.maintainers:  # no version names its publisher: ask for the owners
            owners = self._get_json_optional(f"{url}/owners", warnings, "owners")
            if owners is not None:
                metadata = self.parse(data, owners, url)
        return self._success(ref, metadata, result, warnings)

    def parse(
        self, data: dict[str, Any], owners: Any = None, url: str | None = None
    ) -> PackageMetadata:
        """Normalize a crate document and its owners document."""
        crate = as_dict(data.get("crate"))
        repo = self._repo(crate.get("repository"), crate.get("homepage"))
        latest = (
            as_str(crate.get("max_stable_version"))
            or as_str(crate.get("newest_version"))
            or as_str(crate.get("max_version"))
        )
        versions = [v for v in as_list(data.get("versions")) if isinstance(v, dict)]
        latest_at = None
        for version in versions:
            if as_str(version.get("num")) == latest:
                latest_at = parse_time(version.get("created_at"))
                break
        if latest_at is None:
            latest_at = parse_time(crate.get("updated_at"))
        release_count = as_int(crate.get("num_versions")) or (len(versions) or None)

        people = _publishers(data)
        owner_list = as_dict(owners).get("users") if owners is not None else None
        for user in as_list(owner_list):
            user = as_dict(user)
            login = as_str(user.get("login"))
            if login:
                role = "team" if user.get("kind") == "team" else "owner"
                people.append(
                    Person(login=login, name=as_str(user.get("name")), role=role, source="crates")
                )
        recent = as_int(crate.get("recent_downloads"))
        yanked = [v for v in versions if as_str(v.get("num")) == latest and v.get("yanked")]
        return PackageMetadata(
            repository_url=repo.url if repo else None,
            repository_provenance="metadata" if repo else None,
            homepage=web_url(crate.get("homepage")),
            maintainers=tuple(people),
            latest_version=latest,
            latest_release_at=latest_at,
            release_count=release_count,
            publishers_count=len(people) if people or owner_list is not None else None,
            downloads=recent if recent is not None else as_int(crate.get("downloads")),
            downloads_period="90d" if recent is not None else "total",
            deprecated=True if yanked else None,
            raw_source_url=url,
        )


def _publishers(data: dict[str, Any]) -> list[Person]:
    """Distinct ``published_by`` users of the versions, newest publication first."""
    versions = [v for v in as_list(data.get("versions")) if isinstance(v, dict)]
    versions.sort(key=lambda v: as_str(v.get("created_at")) or "", reverse=True)
    people: dict[str, Person] = {}
    for version in versions:
        user = as_dict(version.get("published_by"))
        login = as_str(user.get("login"))
        if login and login.lower() not in people:
            people[login.lower()] = Person(
                login=login, name=as_str(user.get("name")), role="publisher", source="crates"
            )
    return list(people.values())
