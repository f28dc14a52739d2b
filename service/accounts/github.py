"""GitHub behind one small interface: the real API over httpx, and an offline demo twin."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any, Protocol

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

    def repo(self, token: str | None, owner: str, name: str) -> dict[str, Any] | None: ...


class HttpGitHubAPI:
    """The REST API (github.com or a GitHub Enterprise Server base URL)."""

    def __init__(self, client: httpx.Client, api_url: str) -> None:
        self._client = client
        self._api_url = api_url.rstrip("/")

    def _get(self, path: str, token: str | None) -> httpx.Response:
        headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        try:
            response = self._client.get(f"{self._api_url}{path}", headers=headers)
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


@dataclass
class DemoGitHubAPI:
    """Offline twin for the demo: seeded users and org roles, no network."""

    profiles: dict[str, GitHubProfile] = field(default_factory=dict)
    org_roles: dict[tuple[str, str], str] = field(default_factory=dict)  # (login, org) -> role
    repos: dict[str, dict[str, Any]] = field(default_factory=dict)  # "owner/name" -> repo

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
        return self.repos.get(f"{owner}/{name}".lower())
