"""NuGet V3: registration index, the latest version's ``.nuspec``, and search for owners.

* ``{base}/v3/registration5-gz-semver2/{id}/index.json`` — versions, ``published``,
  ``projectUrl``, ``deprecation`` (pages that are not inlined are fetched, same host only);
* ``{base}/v3-flatcontainer/{id}/{version}/{id}.nuspec`` — ``<repository url=…>``;
* ``{search_url}?q=packageid:{id}`` — ``owners`` and ``totalDownloads`` (the
  registration resource does not carry them).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from service.core.fetch_results import FetchError
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
    parse_xml,
    web_url,
)

DEFAULT_BASE_URL = "https://api.nuget.org"
DEFAULT_SEARCH_URL = "https://azuresearch-usnc.nuget.org/query"


class NuGetProvider(BaseProvider):
    """Metadata from the NuGet V3 API."""

    source = "nuget"
    types = frozenset({"nuget"})

    def __init__(self, *args: Any, search_url: str | None = DEFAULT_SEARCH_URL, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.search_url = search_url

    def _fetch(self, ref: PackageRef, cached: CachedEntry | None) -> ProviderResult:
        package_id = ref.name.lower()
        index_url = (
            f"{self.base_url}/v3/registration5-gz-semver2/{ref.quoted(package_id)}/index.json"
        )
        data, result = self._get_main(index_url, cached)
        if result.not_modified:
            return self._not_modified(ref, cached, result)
        if not isinstance(data, dict):
            return self._failure(ref.key, "invalid_shape", self._now())
        warnings: list[str] = []
        pages = [p for p in as_list(data.get("items")) if isinstance(p, dict)]
        release_count = sum(as_int(p.get("count")) or 0 for p in pages) or None
        leaves = self._leaves(pages, index_url, warnings)
        entries = [as_dict(leaf.get("catalogEntry")) for leaf in leaves]
        entries = [e for e in entries if e and e.get("listed", True) is not False]
        if not entries:
            return self._failure(ref.key, "no_release", self._now())
        stable = [e for e in entries if "-" not in str(e.get("version", ""))]
        latest = (stable or entries)[-1]
        version = as_str(latest.get("version"))

        repo_url = None
        if version:
            nuspec_url = (
                f"{self.base_url}/v3-flatcontainer/{ref.quoted(package_id)}/"
                f"{ref.quoted(version.lower())}/{ref.quoted(package_id)}.nuspec"
            )
            repo_url = self._nuspec_repository(nuspec_url, warnings)
        owners, downloads = self._search(ref, package_id, warnings)
        repo = self._repo(repo_url, latest.get("projectUrl"))
        people = _people(owners, latest.get("authors"))
        return self._success(
            ref,
            PackageMetadata(
                repository_url=repo.url if repo else None,
                repository_provenance="metadata" if repo else None,
                homepage=web_url(latest.get("projectUrl")),
                maintainers=tuple(people),
                latest_version=version,
                latest_release_at=parse_time(latest.get("published")),
                release_count=release_count,
                publishers_count=len(owners) if owners else None,
                downloads=downloads,
                downloads_period="total" if downloads is not None else None,
                deprecated=bool(latest.get("deprecation")),
                advisories=len(as_list(latest.get("vulnerabilities"))),
                raw_source_url=index_url,
            ),
            result,
            warnings,
        )

    def _search(
        self, ref: PackageRef, package_id: str, warnings: list[str]
    ) -> tuple[list[str], int | None]:
        """(owners, total downloads) from the search service, when there is one."""
        if not self.search_url:
            return [], None
        search = self._get_json_optional(
            self.search_url,
            warnings,
            "search",
            params={"q": f"packageid:{ref.name}", "prerelease": "false", "semVerLevel": "2.0.0"},
        )
        hits = [h for h in as_list(as_dict(search).get("data")) if isinstance(h, dict)]
        hit = next((h for h in hits if str(h.get("id", "")).lower() == package_id), None)
        if not hit:
            return [], None
        raw_owners = hit.get("owners")
        owners = [raw_owners] if isinstance(raw_owners, str) else as_list(raw_owners)
        owners = [o for o in owners if isinstance(o, str) and o.strip()]
        return owners, as_int(hit.get("totalDownloads"))

    def _leaves(
        self, pages: list[dict[str, Any]], index_url: str, warnings: list[str]
    ) -> list[dict[str, Any]]:
        """Leaves of the newest page; a page that is not inlined is fetched (same host)."""
        if not pages:
            return []
        page = pages[-1]
        items = page.get("items")
        if isinstance(items, list):
            return [i for i in items if isinstance(i, dict)]
        page_url = as_str(page.get("@id"))
        if not page_url or urlsplit(page_url).netloc != urlsplit(index_url).netloc:
            warnings.append("registration page: unusable @id")
            return []
        data = self._get_json_optional(page_url, warnings, "registration page")
        return [i for i in as_list(as_dict(data).get("items")) if isinstance(i, dict)]

    def _nuspec_repository(self, url: str, warnings: list[str]) -> str | None:
        try:
            result = self.client.get(url, source=self.source)
        except FetchError as exc:
            if exc.reason != "http_404":
                warnings.append(f"nuspec: {exc.reason}")
            return None
        root = parse_xml(result.body)
        if root is None:
            warnings.append("nuspec: invalid_xml")
            return None
        repo = root.find("metadata/repository")
        if repo is not None and repo.get("url"):
            return repo.get("url")
        node = root.find("metadata/projectUrl")
        return node.text.strip() if node is not None and node.text else None


def _people(owners: list[str], authors: Any) -> list[Person]:
    """The package's owners on the gallery, then the authors its metadata names."""
    author_names = authors.split(",") if isinstance(authors, str) else as_list(authors)
    people = [Person(login=o.strip(), role="owner", source="nuget") for o in owners]
    people += [
        Person(name=a.strip(), role="author", source="nuget")
        for a in author_names
        if isinstance(a, str) and a.strip()
    ]
    return people
