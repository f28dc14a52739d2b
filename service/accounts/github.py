"""GitHub behind one small interface: the real API over httpx, and an offline demo twin."""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import quote

import httpx


@dataclass(frozen=True)
class GitHubProfile:
    id: int
    login: str
    name: str | None = None
    avatar_url: str | None = None
    email: str | None = None


class GitHubError(Exception):
    """GitHub could not answer; `reason` says why in a few words."""

    def __init__(self, reason: str, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


class GitHubAPI(Protocol):
    def profile(self, token: str) -> GitHubProfile: ...

    def org_role(self, token: str, org: str) -> str | None:
        """'admin' or 'member' for an active membership of org, else None."""

    def repo(self, token: str | None, owner: str, name: str) -> dict[str, Any] | None:
        """The repository; with a token it carries that person's `permissions`."""

    def user_exists(self, login: str) -> bool:
        """Whether GitHub has a user or organisation account with this login."""

    def org_repos(self, token: str, org: str) -> list[dict[str, Any]]:
        """Every repository of org the token can see (GitHub's repository objects)."""

    def user_repos(self, token: str) -> list[dict[str, Any]]:
        """Repositories the token's person owns, collaborates on or sees through an org,
        each with the `permissions` GitHub grants them."""

    def dependency_graph_sbom(self, token: str, owner: str, repo: str) -> bytes:
        """The repository's dependency graph as GitHub exports it: `{"sbom": {SPDX 2.3}}`.

        Raises GitHubError with status 404 or 403 when the dependency graph is disabled
        or the repository is not visible to the token.
        """


# Pages followed when listing an organisation's repositories (100 per page).
MAX_REPO_PAGES = 50


class HttpGitHubAPI:
    """The REST API (github.com or a GitHub Enterprise Server base URL)."""

    def __init__(self, client: httpx.Client, api_url: str) -> None:
        self._client = client
        self._api_url = api_url.rstrip("/")

    def _get(self, path: str, token: str | None) -> httpx.Response:
        """GET a path under the API URL, or a full URL GitHub gave us (pagination links)."""
        headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        url = path if path.startswith(self._api_url + "/") else f"{self._api_url}{path}"
        try:
            response = self._client.get(url, headers=headers)
        except httpx.HTTPError as exc:
            raise GitHubError(f"GitHub could not be reached ({type(exc).__name__})") from None
        if response.status_code >= 500:
            raise GitHubError(f"GitHub answered {response.status_code}", response.status_code)
        if (
            response.status_code in (401, 403)
            and response.headers.get("x-ratelimit-remaining") == "0"
        ):
            raise GitHubError("GitHub's rate limit is exhausted; try again later", 429)
        return response

    def _json(self, response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError:
            raise GitHubError("GitHub answered with something that is not JSON") from None

    def profile(self, token: str) -> GitHubProfile:
        response = self._get("/user", token)
        if response.status_code != 200:
            raise GitHubError(f"GitHub refused the profile request ({response.status_code})")
        user = self._json(response)
        email = user.get("email")
        emails = self._get("/user/emails", token)
        if emails.status_code == 200:
            for entry in self._json(emails):
                if entry.get("primary") and entry.get("verified"):
                    email = entry.get("email")
        try:
            return GitHubProfile(
                id=int(user["id"]),
                login=str(user["login"]),
                name=user.get("name"),
                avatar_url=user.get("avatar_url"),
                email=email,
            )
        except (KeyError, TypeError, ValueError):
            raise GitHubError("GitHub's profile answer lacks an id or login") from None

    def org_role(self, token: str, org: str) -> str | None:
        response = self._get(f"/user/memberships/orgs/{org}", token)
        if response.status_code in (403, 404):
            return None
        if response.status_code != 200:
            raise GitHubError(f"GitHub answered {response.status_code} for membership of {org}")
        membership = self._json(response)
        if membership.get("state") != "active":
            return None
        return membership.get("role")

    def repo(self, token: str | None, owner: str, name: str) -> dict[str, Any] | None:
        response = self._get(f"/repos/{owner}/{name}", token)
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise GitHubError(f"GitHub answered {response.status_code} for {owner}/{name}")
        return self._json(response)

    def user_exists(self, login: str) -> bool:
        response = self._get(f"/users/{quote(login, safe='')}", None)
        if response.status_code == 404:
            return False
        if response.status_code != 200:
            raise GitHubError(f"GitHub answered {response.status_code} for the user {login}")
        return True

    def _pages(self, path: str, token: str, what: str) -> list[dict[str, Any]]:
        """Every item of a paginated list, following `Link: rel="next"` on the same API."""
        items: list[dict[str, Any]] = []
        url: str | None = path
        for _page in range(MAX_REPO_PAGES):
            if url is None:
                break
            response = self._get(url, token)
            if response.status_code == 404:
                raise GitHubError(f"GitHub does not know {what}", 404)
            if response.status_code != 200:
                raise GitHubError(
                    f"GitHub answered {response.status_code} listing {what}", response.status_code
                )
            page = self._json(response)
            if not isinstance(page, list):
                raise GitHubError(f"GitHub's list of {what} is not a list")
            items.extend(item for item in page if isinstance(item, dict) and item.get("name"))
            next_url = response.links.get("next", {}).get("url")
            # Follow only links back to the same API: the token must not travel elsewhere.
            url = next_url if next_url and next_url.startswith(self._api_url + "/") else None
        return items

    def org_repos(self, token: str, org: str) -> list[dict[str, Any]]:
        path = f"/orgs/{quote(org, safe='')}/repos?per_page=100&type=all"
        return self._pages(path, token, f"the repositories of the organisation {org}")

    def user_repos(self, token: str) -> list[dict[str, Any]]:
        path = "/user/repos?per_page=100&affiliation=owner,collaborator,organization_member"
        return self._pages(path, token, "your repositories")

    def dependency_graph_sbom(self, token: str, owner: str, repo: str) -> bytes:
        path = f"/repos/{quote(owner, safe='')}/{quote(repo, safe='')}/dependency-graph/sbom"
        response = self._get(path, token)
        if response.status_code == 200:
            return response.content
        if response.status_code in (403, 404):
            raise GitHubError(
                f"GitHub answered {response.status_code}: the dependency graph is disabled "
                "for this repository, or your account cannot see it",
                response.status_code,
            )
        raise GitHubError(
            f"GitHub answered {response.status_code} for the dependency graph of {owner}/{repo}",
            response.status_code,
        )


@dataclass
class DemoGitHubAPI:
    """Offline twin for the demo: seeded users and org roles, no network."""

    profiles: dict[str, GitHubProfile] = field(default_factory=dict)
    org_roles: dict[tuple[str, str], str] = field(default_factory=dict)  # (login, org) -> role
    repos: dict[str, dict[str, Any]] = field(default_factory=dict)  # "owner/name" -> repo
    # "owner/name" -> dependency-graph export ({"sbom": {...}}); repos of an org without
    # one answer as GitHub does when the dependency graph is disabled.
    dependency_graphs: dict[str, dict[str, Any]] = field(default_factory=dict)
    # (login, "owner/name") -> the repository permissions GitHub would report to that person.
    permissions: dict[tuple[str, str], dict[str, bool]] = field(default_factory=dict)
    # Further accounts that exist (besides the seeded people), for payout validation.
    known_logins: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        warnings.warn(
            "DemoGitHubAPI is in use: GitHub answers are seeded demo data, not GitHub.",
            RuntimeWarning,
            stacklevel=2,
        )

    def profile(self, token: str) -> GitHubProfile:
        # The demo's "token" is the login of the seeded user signed in.
        if token not in self.profiles:
            raise GitHubError("unknown demo user")
        return self.profiles[token]

    def org_role(self, token: str, org: str) -> str | None:
        return self.org_roles.get((token, org.lower()))

    def repo(self, token: str | None, owner: str, name: str) -> dict[str, Any] | None:
        key = f"{owner}/{name}".lower()
        found = self.repos.get(key)
        if found is None or token is None:
            return found
        granted = self.permissions.get((token, key), {})
        base = {"admin": False, "maintain": False, "push": False, "triage": False, "pull": True}
        return {**found, "permissions": {**base, **granted}}

    def user_exists(self, login: str) -> bool:
        lowered = login.lower()
        return lowered in {p.lower() for p in self.profiles} | {
            k.lower() for k in self.known_logins
        }

    def org_repos(self, token: str, org: str) -> list[dict[str, Any]]:
        prefix = org.lower() + "/"
        return [repo for key, repo in sorted(self.repos.items()) if key.startswith(prefix)]

    def user_repos(self, token: str) -> list[dict[str, Any]]:
        # The demo's token is the login of the seeded person signed in.
        return [
            self.repo(token, *key.split("/", 1))
            for login, key in sorted(self.permissions)
            if login == token and key in self.repos
        ]

    def dependency_graph_sbom(self, token: str, owner: str, repo: str) -> bytes:
        export = self.dependency_graphs.get(f"{owner}/{repo}".lower())
        if export is None:
            raise GitHubError("the dependency graph is disabled for this repository", 404)
        return json.dumps(export).encode()
