"""GitHub repository metadata (base URL configurable for GitHub Enterprise Server).

* ``GET {api}/repos/{owner}/{repo}`` — ``archived``, ``pushed_at``, ``owner.type``,
  ``homepage`` (the conditional main request: a 304 here means nothing was pushed, so
  the funding files below cannot have changed either);
* ``GET {api}/repos/{owner}/{repo}/contents/`` — the root listing, which says which
  funding files can exist, then ``contents/{path}`` only for those: ``.github/FUNDING.yml``
  (when there is a ``.github`` folder), ``FUNDING.yml``, ``docs/FUNDING.yml`` (first
  found) and ``funding.json``, so absent files cost no request;
* ``GET {api}/repos/{owner}/{repo}/contributors`` — top contributors, bots left out.

Package keys are ``pkg:github/owner/name``; :meth:`GitHubProvider.fetch_repo` takes a
:class:`RepoRef` directly.  A token, when given, is sent only to the API host; with one,
:meth:`GitHubProvider.fetch_batch` asks many repositories in one GraphQL query
(:mod:`service.projects.providers.github_graphql`) instead of up to six REST requests each.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote, urlsplit

from service.core.fetch_results import FetchError
from service.projects.funding import (
    FundingChannel,
    FundingPlan,
    parse_funding_json,
    parse_funding_yml,
)
from service.projects.providers import github_graphql
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
    short_text,
    web_url,
)
from service.projects.urls import RepoRef

DEFAULT_BASE_URL = "https://api.github.com"
FUNDING_YML_PATHS = (".github/FUNDING.yml", "FUNDING.yml", "docs/FUNDING.yml")
FUNDING_JSON_PATH = "funding.json"
MAX_CONTRIBUTORS = 30


class GitHubProvider(BaseProvider):
    """Repository facts and funding files from the GitHub REST API."""

    source = "github"
    types = frozenset({"github"})

    def __init__(
        self,
        *args: Any,
        token: str | None = None,
        web_host: str = "github.com",
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.web_host = web_host.lower()
        self._headers = {
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
        }
        if token:
            self._headers["Authorization"] = f"Bearer {token}"
        self._api_host = urlsplit(self.base_url).hostname
        # GitHub's GraphQL API takes no anonymous queries: batches need the token.
        self.batches = bool(token)
        api = self.base_url.rstrip("/")
        # GitHub Enterprise Server serves REST under /api/v3 and GraphQL at /api/graphql.
        self.graphql_url = (api[: -len("/v3")] if api.endswith("/api/v3") else api) + "/graphql"

    def fetch_batch(
        self, package_keys: Iterable[str], *, cached: Mapping[str, CachedEntry] | None = None
    ) -> dict[str, ProviderResult]:
        """With a token: one GraphQL query per ``BATCH`` repositories; without, REST."""
        if not self.batches:
            return super().fetch_batch(package_keys, cached=cached)
        out: dict[str, ProviderResult] = {}
        refs: list[PackageRef] = []
        for key in package_keys:
            try:
                ref = parse_package_key(key)
            except ValueError:
                ref = None
            if ref is None or ref.type != "github" or not ref.namespace or "/" in ref.namespace:
                out[key] = self._failure(key, "invalid_package_key", self._now())
            else:
                refs.append(ref)
        for start in range(0, len(refs), github_graphql.BATCH):
            out.update(self._query(refs[start : start + github_graphql.BATCH]))
        return out

    def _query(self, refs: list[PackageRef]) -> dict[str, ProviderResult]:
        started = self._now()
        body = github_graphql.build_query([(r.namespace or "", r.name) for r in refs], started)
        try:
            answer = self.client.post_json(
                self.graphql_url,
                body,
                source=self.source,
                headers=self._headers,
                max_bytes=16 * 1024 * 1024,
            ).json()
        except FetchError as exc:
            return {r.key: self._failure(r.key, exc.reason, started) for r in refs}
        out = {}
        for ref, (repo, error) in zip(refs, github_graphql.answers(answer, len(refs)), strict=True):
            if repo is None:
                out[ref.key] = self._failure(ref.key, error or "invalid_shape", started)
                continue
            try:
                found = github_graphql.metadata(repo, self.web_host, started, self.graphql_url)
            except (TypeError, ValueError, KeyError, AttributeError):
                out[ref.key] = self._failure(ref.key, "invalid_shape", started)
                continue
            out[ref.key] = self._success(ref, found, None)
        return out

    def fetch_repo(self, repo: RepoRef, *, cached: CachedEntry | None = None) -> ProviderResult:
        """Fetch a repository given as a :class:`RepoRef` (must be on this GitHub host)."""
        return self.fetch(f"pkg:github/{repo.owner}/{repo.name}", cached=cached)

    def _fetch(self, ref: PackageRef, cached: CachedEntry | None) -> ProviderResult:
        owner, name = ref.namespace or "", ref.name
        if not owner or "/" in owner:
            return self._failure(ref.key, "invalid_package_key", self._now())
        repo_path = f"{self.base_url}/repos/{quote(owner, safe='')}/{quote(name, safe='')}"
        data, result = self._get_main(repo_path, cached, headers=self._headers)
        if result.not_modified:
            return self._not_modified(ref, cached, result)
        if not isinstance(data, dict):
            return self._failure(ref.key, "invalid_shape", self._now())

        warnings: list[str] = []
        channels: list[FundingChannel] = []
        plans: tuple[FundingPlan, ...] = ()
        json_channels: tuple[FundingChannel, ...] = ()
        for path in self._funding_paths(repo_path, warnings):
            text = self._contents(repo_path, path, warnings)
            if text is None:
                continue
            if path == FUNDING_JSON_PATH:
                manifest = parse_funding_json(text)
                json_channels, plans = manifest.channels, manifest.plans
            elif not channels:
                channels = parse_funding_yml(text, source="FUNDING.yml")

        contributors = self._contributors(repo_path, warnings)
        owner_info = as_dict(data.get("owner"))
        full_name = as_str(data.get("full_name")) or f"{owner}/{name}"
        canonical_owner, _, canonical_name = full_name.partition("/")
        repo_ref = RepoRef(self.web_host, canonical_owner.lower(), canonical_name.lower())
        return self._success(
            ref,
            PackageMetadata(
                repository_url=repo_ref.url,
                repository_provenance="repository",
                homepage=web_url(data.get("homepage")),
                description=short_text(data.get("description")),
                contributors=tuple(contributors or ()),
                contributors_count=len(contributors) if contributors is not None else None,
                funding=merge_funding(channels, json_channels),
                funding_plans=tuple(plans),
                archived=bool(data.get("archived")) or bool(data.get("disabled")),
                owner_type=(as_str(owner_info.get("type")) or "").lower() or None,
                pushed_at=parse_time(data.get("pushed_at")),
                raw_source_url=repo_path,
            ),
            result,
            warnings,
        )

    def _funding_paths(self, repo_path: str, warnings: list[str]) -> list[str]:
        """The funding files worth asking for, from one listing of the repository's root:
        a root FUNDING.yml and funding.json only when listed, ``.github/FUNDING.yml`` (the
        usual place) only when there is a ``.github`` folder, ``docs/FUNDING.yml`` only
        when there is a ``docs`` folder and neither of the others exists."""
        listing = self._get_json_optional(
            f"{repo_path}/contents", warnings, "contents", headers=self._headers
        )
        if listing is None:
            return []
        root = {
            as_str(as_dict(entry).get("name")): as_str(as_dict(entry).get("type"))
            for entry in as_list(listing)
        }
        paths = []
        if root.get(".github") == "dir":
            paths.append(FUNDING_YML_PATHS[0])
        if root.get("FUNDING.yml") == "file":
            paths.append(FUNDING_YML_PATHS[1])
        if root.get("docs") == "dir" and not paths:
            paths.append(FUNDING_YML_PATHS[2])
        if root.get(FUNDING_JSON_PATH) == "file":
            paths.append(FUNDING_JSON_PATH)
        return paths

    def _contents(self, repo_path: str, path: str, warnings: list[str]) -> str | None:
        """Decoded text of a file in the default branch, None when absent."""
        url = f"{repo_path}/contents/{quote(path)}"
        try:
            data, _ = self.client.get_json(
                url, source=self.source, headers=self._headers, max_bytes=1024 * 1024
            )
        except FetchError as exc:
            if exc.reason != "http_404":
                warnings.append(f"{path}: {exc.reason}")
            return None
        data = as_dict(data)
        if data.get("type") not in (None, "file"):
            return None
        content = data.get("content")
        if not isinstance(content, str):
            return None
        if data.get("encoding", "base64") != "base64":
            return content
        try:
            return base64.b64decode(content, validate=False).decode("utf-8", errors="replace")
        except (binascii.Error, ValueError):
            warnings.append(f"{path}: invalid_base64")
            return None

    def _contributors(self, repo_path: str, warnings: list[str]) -> list[Person] | None:
        data = self._get_json_optional(
            f"{repo_path}/contributors",
            warnings,
            "contributors",
            headers=self._headers,
            params={"per_page": str(MAX_CONTRIBUTORS)},
        )
        if data is None:
            return None
        people = []
        for entry in as_list(data):
            entry = as_dict(entry)
            login = as_str(entry.get("login"))
            if not login or entry.get("type") == "Bot" or login.endswith("[bot]"):
                continue
            people.append(
                Person(
                    login=login,
                    role="contributor",
                    source="github",
                    contributions=as_int(entry.get("contributions")),
                )
            )
        return people
