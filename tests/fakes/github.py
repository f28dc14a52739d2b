"""A small but real GitHub: OAuth authorize and token endpoints plus the REST calls we make.

It runs as a WSGI app on a local port (see `serve`), so sign-in tests go through the real
redirects, the real Authlib request building and the real httpx calls.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from werkzeug.routing import Map, Rule
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response


@dataclass
class FakeUser:
    id: int
    login: str
    name: str | None = None
    email: str | None = None
    orgs: dict[str, str] = field(default_factory=dict)  # org -> "admin" | "member"
    # "owner/name" -> {"admin": bool, "maintain": bool, "push": bool, ...}
    permissions: dict[str, dict[str, bool]] = field(default_factory=dict)


@dataclass
class FakeGitHub:
    client_id: str = "fake-client-id"
    client_secret: str = "fake-client-secret"
    users: dict[str, FakeUser] = field(default_factory=dict)
    repos: dict[str, dict[str, Any]] = field(default_factory=dict)  # "owner/name" -> repo JSON
    files: dict[tuple[str, str], bytes] = field(default_factory=dict)  # (repo, path) -> bytes
    sboms: dict[str, dict[str, Any]] = field(default_factory=dict)  # repo -> SPDX document
    # repo -> status the dependency-graph export answers instead (404/403: graph disabled)
    sbom_errors: dict[str, int] = field(default_factory=dict)
    # Page size cap of list endpoints (GitHub's is 100); lower it to exercise pagination.
    max_per_page: int = 100
    # Who "signs in" at the authorize endpoint next, and failure switches for tests.
    next_login: str | None = None
    deny_authorization: bool = False
    token_endpoint_fails: bool = False
    api_down: bool = False
    requests: list[str] = field(default_factory=list)
    # Accounts that exist without signing in here (lower-cased), e.g. organisations.
    extra_logins: set[str] = field(default_factory=set)
    _codes: dict[str, dict[str, str]] = field(default_factory=dict)
    _tokens: dict[str, str] = field(default_factory=dict)  # token -> login
    base_url: str = ""

    def add_user(self, login: str, **kwargs: Any) -> FakeUser:
        user = FakeUser(id=kwargs.pop("id", 1000 + len(self.users)), login=login, **kwargs)
        self.users[login] = user
        return user

    def add_repo(
        self,
        full_name: str,
        *,
        sbom: dict[str, Any] | None = None,
        sbom_status: int | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """A repository; `sbom` is its dependency graph (SPDX 2.3), `sbom_status` an error."""
        owner, name = full_name.split("/")
        repo = {
            "id": 70000 + len(self.repos),
            "name": name,
            "full_name": full_name,
            "owner": {"login": owner, "type": "Organization"},
            "private": False,
            "archived": False,
            "fork": False,
            "html_url": f"https://github.com/{full_name}",
            **fields,
        }
        key = full_name.lower()
        self.repos[key] = repo
        if sbom is not None:
            self.sboms[key] = sbom
        if sbom_status is not None:
            self.sbom_errors[key] = sbom_status
        return repo

    def token_for(self, login: str) -> str:
        token = "gho_" + secrets.token_hex(16)
        self._tokens[token] = login
        return token

    def reset(self) -> None:
        self.users.clear()
        self.repos.clear()
        self.files.clear()
        self.sboms.clear()
        self.sbom_errors.clear()
        self.max_per_page = 100
        self.requests.clear()
        self.extra_logins.clear()
        self._codes.clear()
        self._tokens.clear()
        self.next_login = None
        self.deny_authorization = self.token_endpoint_fails = self.api_down = False

    # WSGI -------------------------------------------------------------------------------

    def __call__(self, environ, start_response):
        request = Request(environ)
        self.requests.append(f"{request.method} {request.path}")
        adapter = _ROUTES.bind_to_environ(environ)
        try:
            endpoint, args = adapter.match()
        except Exception:
            return _json({"message": "Not Found"}, 404)(environ, start_response)
        if endpoint.startswith("api_") and self.api_down:
            return _json({"message": "Service Unavailable"}, 503)(environ, start_response)
        return getattr(self, endpoint)(request, **args)(environ, start_response)

    def authorize(self, request: Request) -> Response:
        redirect_uri = request.args["redirect_uri"]
        state = request.args.get("state", "")
        if request.args.get("client_id") != self.client_id:
            return Response("unknown client", 400)
        if self.deny_authorization:
            query = {
                "error": "access_denied",
                "error_description": "The user has denied your application access.",
                "state": state,
            }
            return _redirect(f"{redirect_uri}?{urlencode(query)}")
        code = secrets.token_hex(10)
        self._codes[code] = {
            "login": self.next_login or next(iter(self.users)),
            "redirect_uri": redirect_uri,
            "challenge": request.args.get("code_challenge", ""),
            "method": request.args.get("code_challenge_method", ""),
        }
        return _redirect(f"{redirect_uri}?{urlencode({'code': code, 'state': state})}")

    def access_token(self, request: Request) -> Response:
        if self.token_endpoint_fails:
            return Response("upstream failure", 500)
        form = request.form
        grant = self._codes.pop(form.get("code", ""), None)
        if (
            form.get("client_id") != self.client_id
            or form.get("client_secret") != self.client_secret
        ):
            return _json({"error": "incorrect_client_credentials"})
        if grant is None or grant["redirect_uri"] != form.get("redirect_uri"):
            return _json(
                {
                    "error": "bad_verification_code",
                    "error_description": "The code passed is incorrect or expired.",
                }
            )
        verifier = form.get("code_verifier", "")
        digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
        if grant["method"] != "S256" or digest.decode() != grant["challenge"]:
            return _json({"error": "bad_verification_code", "error_description": "PKCE failed"})
        return _json(
            {
                "access_token": self.token_for(grant["login"]),
                "token_type": "bearer",
                "scope": "read:user,user:email,read:org",
            }
        )

    def _user(self, request: Request) -> FakeUser | None:
        header = request.headers.get("Authorization", "")
        login = self._tokens.get(header.removeprefix("Bearer ").removeprefix("token "))
        return self.users.get(login) if login else None

    def api_user(self, request: Request) -> Response:
        user = self._user(request)
        if user is None:
            return _json({"message": "Requires authentication"}, 401)
        return _json(
            {
                "id": user.id,
                "login": user.login,
                "name": user.name,
                "avatar_url": f"{self.base_url}/avatars/{user.login}",
                "email": None,
            }
        )

    def api_emails(self, request: Request) -> Response:
        user = self._user(request)
        if user is None:
            return _json({"message": "Requires authentication"}, 401)
        emails = [{"email": user.email, "primary": True, "verified": True}] if user.email else []
        return _json(
            [*emails, {"email": "other@example.invalid", "primary": False, "verified": True}]
        )

    def api_orgs(self, request: Request) -> Response:
        user = self._user(request)
        if user is None:
            return _json({"message": "Requires authentication"}, 401)
        return _json([{"login": org} for org in user.orgs])

    def api_membership(self, request: Request, org: str) -> Response:
        user = self._user(request)
        if user is None:
            return _json({"message": "Requires authentication"}, 401)
        role = user.orgs.get(org.lower())
        if role is None:
            return _json({"message": "Not Found"}, 404)
        return _json({"state": "active", "role": role, "organization": {"login": org}})

    def api_repo(self, request: Request, owner: str, name: str) -> Response:
        key = f"{owner}/{name}".lower()
        repo = self.repos.get(key)
        if repo is None:
            return _json({"message": "Not Found"}, 404)
        body = dict(repo)
        user = self._user(request)
        if user is not None:
            body["permissions"] = user.permissions.get(
                key, {"admin": False, "maintain": False, "push": False, "pull": True}
            )
        return _json(body)

    def api_users(self, request: Request, login: str) -> Response:
        if login.lower() not in {u.lower() for u in self.users} | self.extra_logins:
            return _json({"message": "Not Found"}, 404)
        return _json({"login": login, "type": "User"})

    def api_org_repos(self, request: Request, org: str) -> Response:
        if self._user(request) is None:
            return _json({"message": "Requires authentication"}, 401)
        prefix = org.lower() + "/"
        repos = [repo for key, repo in sorted(self.repos.items()) if key.startswith(prefix)]
        if not repos and not any(org.lower() in user.orgs for user in self.users.values()):
            return _json({"message": "Not Found"}, 404)
        per_page = min(int(request.args.get("per_page", 30)), self.max_per_page)
        page = max(1, int(request.args.get("page", 1)))
        chunk = repos[(page - 1) * per_page : page * per_page]
        headers = {}
        if page * per_page < len(repos):
            query = urlencode({**request.args, "per_page": per_page, "page": page + 1})
            headers["Link"] = f'<{self.base_url}/api/orgs/{org}/repos?{query}>; rel="next"'
        return Response(json.dumps(chunk), 200, mimetype="application/json", headers=headers)

    def api_user_repos(self, request: Request) -> Response:
        user = self._user(request)
        if user is None:
            return _json({"message": "Requires authentication"}, 401)
        visible = [
            {**self.repos[key], "permissions": permissions}
            for key, permissions in sorted(user.permissions.items())
            if key in self.repos
        ]
        return _json(visible)

    def api_dependency_graph(self, request: Request, owner: str, name: str) -> Response:
        if self._user(request) is None:
            return _json({"message": "Requires authentication"}, 401)
        key = f"{owner}/{name}".lower()
        if key in self.sbom_errors:
            status = self.sbom_errors[key]
            message = {
                404: "Not Found",
                403: "Dependency graph is disabled for this repository.",
            }.get(status, "Error")
            return _json({"message": message}, status)
        if key not in self.repos or key not in self.sboms:
            return _json({"message": "Not Found"}, 404)
        return _json({"sbom": self.sboms[key]})


_ROUTES = Map(
    [
        Rule("/login/oauth/authorize", endpoint="authorize"),
        Rule("/login/oauth/access_token", endpoint="access_token", methods=["POST"]),
        Rule("/api/user", endpoint="api_user"),
        Rule("/api/user/emails", endpoint="api_emails"),
        Rule("/api/user/orgs", endpoint="api_orgs"),
        Rule("/api/user/memberships/orgs/<org>", endpoint="api_membership"),
        Rule("/api/repos/<owner>/<name>", endpoint="api_repo"),
        Rule("/api/orgs/<org>/repos", endpoint="api_org_repos"),
        Rule("/api/user/repos", endpoint="api_user_repos"),
        Rule("/api/users/<login>", endpoint="api_users"),
        Rule("/api/repos/<owner>/<name>/dependency-graph/sbom", endpoint="api_dependency_graph"),
    ]
)


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status, mimetype="application/json")


def _redirect(location: str) -> Response:
    return Response("", 302, headers={"Location": location})


class RunningServer:
    """A WSGI app served on 127.0.0.1 in a daemon thread."""

    def __init__(self, app) -> None:
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=5)


def serve(fake: FakeGitHub) -> RunningServer:
    server = RunningServer(fake)
    fake.base_url = server.url
    return server
