"""A fake of every metadata source Tributary reads, as one real WSGI application.

It serves the documented response shapes of the PyPI JSON API, the npm registry,
the crates registry, RubyGems, a Maven repository, NuGet V3 (registration, flat container,
search), the Go module proxy (plus ``?go-get=1`` vanity pages), deps.dev v3,
ecosyste.ms packages (single, lookup and bulk) and the GitHub REST API, generated from
a small catalogue of :class:`FakePackage` / :class:`FakeRepo` records.

Every response carries an ``ETag`` and a ``Last-Modified`` and conditional requests get
``304``; requests are counted per source; latency can be added per source; faults
(429 with ``Retry-After``, 5xx, garbage, huge bodies, redirect loops) can be queued.

Each source lives under its own path prefix (``/pypi``, ``/npm`` …) on one server, or on
its own port with ``separate_ports=True`` (so a per-host concurrency limit applies per
source, as it would against the real hosts).

Use from tests or a script (only werkzeug and the standard library are needed)::

    from tests.fakes.registries import start_fake_registries, sample_catalogue
    with start_fake_registries(latency=0.02) as fake:
        providers = build_providers(client, base_urls=fake.base_urls,
                                    go_vanity_url=fake.go_vanity_url)
        ...
        print(fake.counts())

or standalone: ``python tests/fakes/registries.py --port 8765 --packages 500``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qs, quote, unquote
from xml.sax.saxutils import escape

from werkzeug.serving import WSGIRequestHandler, make_server

__all__ = [
    "SOURCES",
    "FakePackage",
    "FakeRegistries",
    "FakeRepo",
    "FakeResponse",
    "Fault",
    "RunningFakeRegistries",
    "sample_catalogue",
    "start_fake_registries",
    "synthetic_catalogue",
]

SOURCES = (
    "pypi",
    "npm",
    "crates",
    "rubygems",
    "maven",
    "nuget",
    "go",
    "govanity",
    "depsdev",
    "ecosystems",
    "github",
)
_PURL_TYPE_SOURCE = {
    "pypi": "pypi",
    "npm": "npm",
    "cargo": "crates",
    "gem": "rubygems",
    "maven": "maven",
    "nuget": "nuget",
    "golang": "go",
}
_DEPSDEV_SYSTEMS = {
    "pypi": "PYPI",
    "npm": "NPM",
    "cargo": "CARGO",
    "maven": "MAVEN",
    "nuget": "NUGET",
    "go": "GO",
}
_DEPSDEV_TYPES = {
    "pypi": "pypi",
    "npm": "npm",
    "cargo": "cargo",
    "maven": "maven",
    "nuget": "nuget",
    "go": "golang",
}
_ECOSYSTEMS_REGISTRIES = {
    "pypi.org": "pypi",
    "npmjs.org": "npm",
    "crates.io": "cargo",
    "rubygems.org": "gem",
    "repo1.maven.org": "maven",
    "nuget.org": "nuget",
    "proxy.golang.org": "golang",
}


# --- catalogue -------------------------------------------------------------------


@dataclass
class FakePackage:
    """A package as the fake registries describe it.

    ``name`` is spelled as the ecosystem spells it: ``requests``, ``@babel/core``,
    ``org.apache.commons:commons-lang3``, ``Newtonsoft.Json``, ``github.com/spf13/cobra``.
    """

    purl_type: str
    name: str
    version: str = "1.0.0"
    repo: str | None = None  # "github.com/owner/name"
    repo_url_style: str = "https"  # how the registry spells it: https, git+ssh, shorthand…
    maintainers: list[str] = field(default_factory=lambda: ["alice"])
    funding: list[str] = field(default_factory=list)
    released_at: str = "2024-05-01T12:00:00Z"
    versions: list[str] = field(default_factory=list)
    deprecated: bool = False
    downloads: int = 1000
    dependents: int = 12
    attested: bool = False
    advisories: int = 0
    homepage: str | None = None
    go_origin: bool = True  # the Go proxy reports Origin.URL (False: only the vanity page)
    publishers_recorded: bool = True  # crates: versions name who published them

    @property
    def all_versions(self) -> list[str]:
        return self.versions or ["0.9.0", self.version]

    @property
    def purl(self) -> str:
        """The versionless purl, namespace percent-encoded where the spec says so."""
        if self.purl_type == "npm" and self.name.startswith("@"):
            scope, _, rest = self.name.partition("/")
            return f"pkg:npm/%40{scope[1:]}/{rest}"
        if self.purl_type == "maven":
            group, _, artifact = self.name.partition(":")
            return f"pkg:maven/{group}/{artifact}"
        if self.purl_type == "pypi":
            return f"pkg:pypi/{self.name.lower().replace('_', '-')}"
        return f"pkg:{self.purl_type}/{self.name}"

    @property
    def released(self) -> datetime:
        return _parse_iso(self.released_at)

    def repo_url(self) -> str | None:
        if not self.repo:
            return None
        host, owner, name = self.repo.split("/", 2)
        return {
            "https": f"https://{self.repo}",
            "git+https": f"git+https://{self.repo}.git",
            "git+ssh": f"git+ssh://git@{self.repo}.git",
            "scp": f"git@{host}:{owner}/{name}.git",
            "shorthand": f"{owner}/{name}",
            "github-shorthand": f"github:{owner}/{name}",
            "tree": f"https://{self.repo}/tree/main/packages/{name}",
            "scm": f"scm:git:git://{self.repo}.git",
        }.get(self.repo_url_style, f"https://{self.repo}")


@dataclass
class FakeRepo:
    """A repository as the fake GitHub (and deps.dev projects) describe it."""

    key: str  # "github.com/owner/name"
    archived: bool = False
    owner_type: str = "Organization"
    pushed_at: str = "2024-06-01T00:00:00Z"
    homepage: str | None = None
    funding_yml: str | None = None
    funding_yml_path: str = ".github/FUNDING.yml"
    funding_json: Mapping[str, Any] | None = None
    contributors: list[tuple[str, int]] = field(default_factory=lambda: [("alice", 120)])
    scorecard: float | None = 6.5
    maintained: int | None = 10
    stars: int = 100

    @property
    def owner(self) -> str:
        return self.key.split("/")[1]

    @property
    def name(self) -> str:
        return self.key.split("/")[2]


@dataclass
class Fault:
    """A canned answer for the next ``times`` matching requests of one source.

    ``kind``: ``status`` (send ``status``/``headers``/``body``), ``garbage`` (200 with a
    body that is not JSON), ``huge`` (200 with ``size`` bytes), ``redirect_loop`` (302
    back to the same path), ``redirect`` (302 to ``location``), ``slow`` (sleep
    ``delay`` seconds, then answer normally).
    """

    kind: str = "status"
    status: int = 500
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    times: int = 1
    match: str | None = None
    size: int = 0
    location: str = ""
    delay: float = 0.0


@dataclass
class FakeResponse:
    status: int
    headers: dict[str, str]
    body: bytes


# --- the application -------------------------------------------------------------


class FakeRegistries:
    """The WSGI application (and an httpx-transport-compatible handler)."""

    def __init__(
        self,
        packages: Iterable[FakePackage] | None = None,
        repos: Iterable[FakeRepo] | None = None,
        *,
        latency: float | Mapping[str, float] = 0.0,
        base_url: str = "http://127.0.0.1",
    ) -> None:
        if packages is None and repos is None:
            packages, repos = sample_catalogue()
        self.packages: dict[tuple[str, str], FakePackage] = {}
        for package in packages or ():
            self.add_package(package)
        self.repos: dict[str, FakeRepo] = {r.key.lower(): r for r in repos or ()}
        self.latency = latency
        self.base_url = base_url.rstrip("/")
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()
        self._statuses: Counter[int] = Counter()
        self._in_flight: Counter[str] = Counter()
        self._most_in_flight: Counter[str] = Counter()  # per source, since the last reset
        self._faults: dict[str, list[Fault]] = {}
        # The most recent requests, for assertions: (source, method, raw path + query).
        self.requests: deque[tuple[str, str, str]] = deque(maxlen=10_000)
        self.bodies: deque[bytes] = deque(maxlen=10_000)  # each request's body, in order
        # Headers of the most recent requests (lower-cased names), in the same order.
        self.request_headers: deque[dict[str, str]] = deque(maxlen=10_000)
        self.github_rate_limit: tuple[int, int] | None = None  # (remaining, reset epoch)

    # -- catalogue --------------------------------------------------------------

    def add_package(self, package: FakePackage) -> None:
        self.packages[(package.purl_type, _fold(package.purl_type, package.name))] = package

    def add_repo(self, repo: FakeRepo) -> None:
        self.repos[repo.key.lower()] = repo

    def package(self, purl_type: str, name: str) -> FakePackage | None:
        return self.packages.get((purl_type, _fold(purl_type, name)))

    # -- control ----------------------------------------------------------------

    def add_fault(self, source: str, fault: Fault | None = None, **kwargs: Any) -> Fault:
        """Queue a fault for ``source`` (kwargs build a :class:`Fault`)."""
        fault = fault or Fault(**kwargs)
        with self._lock:
            self._faults.setdefault(source, []).append(fault)
        return fault

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def counts(self) -> dict[str, int]:
        """Requests received per source."""
        with self._lock:
            return dict(self._counts)

    def statuses(self) -> dict[int, int]:
        """Answers given per HTTP status (proves a refresh was answered 304)."""
        with self._lock:
            return dict(self._statuses)

    def most_in_flight(self) -> dict[str, int]:
        """The most requests each source was answering at once."""
        with self._lock:
            return dict(self._most_in_flight)

    def reset_counts(self) -> None:
        with self._lock:
            self._counts.clear()
            self._statuses.clear()
            self._most_in_flight.clear()
            self.requests.clear()
            self.bodies.clear()
            self.request_headers.clear()

    # -- entry points -----------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        raw = environ.get("REQUEST_URI") or environ.get("RAW_URI")
        if raw:
            raw_path, _, query = raw.partition("?")
            if "://" in raw_path:  # absolute-form request target
                raw_path = "/" + raw_path.split("://", 1)[1].partition("/")[2]
        else:
            raw_path = quote(environ.get("PATH_INFO", ""), safe="/@:!~")
            query = environ.get("QUERY_STRING", "")
        prefix = environ.get("fake.source_prefix", "")
        headers = {
            key[5:].replace("_", "-").lower(): value
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        response = self.handle(environ["REQUEST_METHOD"], prefix + raw_path, query, headers, body)
        with self._lock:
            self._statuses[response.status] += 1
        reason = _REASONS.get(response.status, "Unknown")
        out_headers = dict(response.headers)
        out_headers["Content-Length"] = str(len(response.body))
        start_response(f"{response.status} {reason}", list(out_headers.items()))
        return [response.body]

    def httpx_handler(self, request: Any) -> Any:
        """Use as ``httpx.MockTransport(fake.httpx_handler)`` — no sockets at all."""
        import httpx

        raw_path = request.url.raw_path.decode("ascii")
        path, _, query = raw_path.partition("?")
        headers = {k.lower(): v for k, v in request.headers.items()}
        response = self.handle(request.method, path, query, headers, request.read())
        with self._lock:
            self._statuses[response.status] += 1
        return httpx.Response(response.status, headers=response.headers, content=response.body)

    def handle(
        self,
        method: str,
        raw_path: str,
        query: str,
        headers: Mapping[str, str],
        body: bytes = b"",
    ) -> FakeResponse:
        """Answer one request; ``raw_path`` is still percent-encoded."""
        segments = [unquote(s) for s in raw_path.split("/")[1:]]
        if segments and segments[-1] == "" and len(segments) > 1:
            segments = segments[:-1]
        source = segments[0] if segments else ""
        rest = segments[1:]
        params = {k: v[0] for k, v in parse_qs(query).items()}
        with self._lock:
            self._counts[source] += 1
            self.requests.append((source, method, raw_path + (f"?{query}" if query else "")))
            self.bodies.append(body)
            self.request_headers.append(dict(headers))
            fault = self._take_fault(source, raw_path)
            self._in_flight[source] += 1
            most = max(self._most_in_flight[source], self._in_flight[source])
            self._most_in_flight[source] = most
        try:
            return self._answer(source, method, raw_path, rest, query, params, headers, body, fault)
        finally:
            with self._lock:
                self._in_flight[source] -= 1

    def _answer(
        self,
        source: str,
        method: str,
        raw_path: str,
        rest: list[str],
        query: str,
        params: dict[str, str],
        headers: Mapping[str, str],
        body: bytes,
        fault: Fault | None,
    ) -> FakeResponse:
        delay = self.latency.get(source, 0.0) if isinstance(self.latency, Mapping) else self.latency
        if delay:
            time.sleep(delay)
        if fault is not None:
            faulted = self._apply_fault(fault, raw_path, query)
            if faulted is not None:
                return faulted
        handler = getattr(self, f"_serve_{source}", None)
        if handler is None:
            return _json_response(404, {"error": "unknown source"})
        try:
            answer = handler(method, rest, params, body)
        except _NotFound:
            return _json_response(404, {"message": "Not Found"})
        if isinstance(answer, FakeResponse):
            return answer
        content, content_type, modified = answer
        response = _conditional(content, content_type, modified, headers)
        if source == "github" and self.github_rate_limit is not None:
            remaining, reset = self.github_rate_limit
            response.headers["X-RateLimit-Remaining"] = str(remaining)
            response.headers["X-RateLimit-Reset"] = str(reset)
        return response

    def _take_fault(self, source: str, path: str) -> Fault | None:
        queue = self._faults.get(source) or []
        for fault in queue:
            if fault.match is None or fault.match in path:
                fault.times -= 1
                if fault.times <= 0:
                    queue.remove(fault)
                return fault
        return None

    def _apply_fault(self, fault: Fault, raw_path: str, query: str) -> FakeResponse | None:
        if fault.kind == "slow":
            time.sleep(fault.delay)
            return None
        if fault.kind == "garbage":
            return FakeResponse(200, {"Content-Type": "application/json"}, b"<html>oops{")
        if fault.kind == "huge":
            return FakeResponse(200, {"Content-Type": "application/json"}, b" " * fault.size)
        if fault.kind == "redirect_loop":
            target = raw_path + (f"?{query}" if query else "")
            return FakeResponse(302, {"Location": target}, b"")
        if fault.kind == "redirect":
            return FakeResponse(302, {"Location": fault.location}, b"")
        headers = {"Content-Type": "application/json"}
        headers.update(fault.headers)
        return FakeResponse(fault.status, headers, fault.body)

    # -- PyPI ---------------------------------------------------------------------

    def _serve_pypi(self, method: str, rest: list[str], params: dict, body: bytes) -> Any:
        if len(rest) != 3 or rest[0] != "pypi" or rest[2] != "json":
            raise _NotFound
        pkg = self._need("pypi", rest[1])
        project_urls: dict[str, str] = {}
        if pkg.homepage:
            project_urls["Homepage"] = pkg.homepage
        if pkg.repo:
            project_urls["Source"] = pkg.repo_url() or ""
        for url in pkg.funding:
            project_urls["Funding" if "Funding" not in project_urls else f"Donate {url}"] = url
        files: dict[str, list[dict[str, Any]]] = {}
        for i, version in enumerate(pkg.all_versions):
            when = pkg.released - timedelta(days=90 * (len(pkg.all_versions) - 1 - i))
            files[version] = [
                {
                    "filename": f"{pkg.name}-{version}.tar.gz",
                    "packagetype": "sdist",
                    "upload_time": when.strftime("%Y-%m-%dT%H:%M:%S"),
                    "upload_time_iso_8601": when.strftime("%Y-%m-%dT%H:%M:%S.123456Z"),
                    "yanked": False,
                    "size": 1234,
                }
            ]
        doc = {
            "info": {
                "name": pkg.name,
                "version": pkg.version,
                "summary": f"{pkg.name} package",
                "home_page": pkg.homepage or "",
                "author": pkg.maintainers[0].title() if pkg.maintainers else None,
                "author_email": f"{pkg.maintainers[0]}@example.org" if pkg.maintainers else None,
                "maintainer": None,
                "maintainer_email": None,
                "project_urls": project_urls or None,
                "yanked": False,
            },
            "ownership": {
                "organization": None,
                "roles": [
                    {"role": "Owner" if i == 0 else "Maintainer", "user": m}
                    for i, m in enumerate(pkg.maintainers)
                ],
            },
            "last_serial": 1,
            "releases": files,
            "urls": files[pkg.version],
            "vulnerabilities": [],
        }
        return _json(doc, pkg.released)

    # -- npm ----------------------------------------------------------------------

    def _serve_npm(self, method: str, rest: list[str], params: dict, body: bytes) -> Any:
        if not rest:
            raise _NotFound
        name, tail = rest[0], rest[1:]
        if name.startswith("@") and "/" not in name and tail:
            name, tail = f"{name}/{tail[0]}", tail[1:]
        pkg = self._need("npm", name)
        manifests = {}
        times = {"created": "2015-01-01T00:00:00.000Z", "modified": pkg.released_at}
        for i, version in enumerate(pkg.all_versions):
            manifest: dict[str, Any] = {
                "name": pkg.name,
                "version": version,
                "maintainers": [{"name": m, "email": f"{m}@example.org"} for m in pkg.maintainers],
                "dist": {"tarball": f"{self.base_url}/npm/{pkg.name}/-/x-{version}.tgz"},
            }
            if pkg.repo:
                manifest["repository"] = {"type": "git", "url": pkg.repo_url()}
                manifest["bugs"] = {"url": f"https://{pkg.repo}/issues"}
            if pkg.homepage:
                manifest["homepage"] = pkg.homepage
            if pkg.funding:
                manifest["funding"] = (
                    {"type": "individual", "url": pkg.funding[0]}
                    if len(pkg.funding) == 1
                    else [{"type": "x", "url": u} for u in pkg.funding]
                )
            if pkg.deprecated and version == pkg.version:
                manifest["deprecated"] = "no longer maintained"
            manifests[version] = manifest
            when = pkg.released - timedelta(days=30 * (len(pkg.all_versions) - 1 - i))
            times[version] = when.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        if tail == ["latest"]:
            return _json(manifests[pkg.version], pkg.released)
        if tail:
            raise _NotFound
        doc: dict[str, Any] = {
            "_id": pkg.name,
            "name": pkg.name,
            "dist-tags": {"latest": pkg.version},
            "versions": manifests,
            "time": times,
            "maintainers": [{"name": m, "email": f"{m}@example.org"} for m in pkg.maintainers],
            "license": "MIT",
        }
        if pkg.repo:
            doc["repository"] = {"type": "git", "url": pkg.repo_url()}
        if pkg.homepage:
            doc["homepage"] = pkg.homepage
        return _json(doc, pkg.released)

    # -- crates --------------------------------------------------------------------------

    def _serve_crates(self, method: str, rest: list[str], params: dict, body: bytes) -> Any:
        if len(rest) < 4 or rest[:3] != ["api", "v1", "crates"]:
            raise _NotFound
        pkg = self._need("cargo", rest[3])
        if rest[4:] == ["owners"]:
            users = [
                {
                    "id": i + 1,
                    "login": m,
                    "kind": "user",
                    "name": m.title(),
                    "url": f"https://github.com/{m}",
                    "avatar": None,
                }
                for i, m in enumerate(pkg.maintainers)
            ]
            return _json({"users": users}, pkg.released)
        if rest[4:]:
            raise _NotFound
        versions = [
            {
                "id": i + 1,
                "crate": pkg.name,
                "num": v,
                "created_at": (pkg.released - timedelta(days=60 * (len(pkg.all_versions) - 1 - i)))
                .isoformat()
                .replace("+00:00", "Z"),
                "yanked": False,
                "published_by": (
                    {"login": pkg.maintainers[0]}
                    if pkg.maintainers and pkg.publishers_recorded
                    else None
                ),
            }
            for i, v in reversed(list(enumerate(pkg.all_versions)))
        ]
        doc = {
            "crate": {
                "id": pkg.name,
                "name": pkg.name,
                "repository": pkg.repo_url(),
                "homepage": pkg.homepage,
                "documentation": f"https://docs.rs/{pkg.name}",
                "downloads": pkg.downloads * 10,
                "recent_downloads": pkg.downloads,
                "max_version": pkg.version,
                "max_stable_version": pkg.version,
                "newest_version": pkg.version,
                "num_versions": len(pkg.all_versions),
                "created_at": "2015-01-01T00:00:00Z",
                "updated_at": pkg.released_at,
            },
            "versions": versions,
            "keywords": [],
            "categories": [],
        }
        return _json(doc, pkg.released)

    # -- RubyGems -----------------------------------------------------------------------

    def _serve_rubygems(self, method: str, rest: list[str], params: dict, body: bytes) -> Any:
        if len(rest) < 4 or rest[:3] != ["api", "v1", "gems"]:
            raise _NotFound
        if len(rest) == 5 and rest[4] == "owners.json":
            pkg = self._need("gem", rest[3])
            owners = [{"id": i + 1, "handle": m} for i, m in enumerate(pkg.maintainers)]
            return _json(owners, pkg.released)
        if len(rest) != 4 or not rest[3].endswith(".json"):
            raise _NotFound
        pkg = self._need("gem", rest[3][: -len(".json")])
        metadata: dict[str, str] = {}
        if pkg.repo:
            metadata["source_code_uri"] = pkg.repo_url() or ""
        if pkg.funding:
            metadata["funding_uri"] = pkg.funding[0]
        doc = {
            "name": pkg.name,
            "downloads": pkg.downloads,
            "version": pkg.version,
            "version_created_at": pkg.released.isoformat().replace("+00:00", ".000Z"),
            "version_downloads": pkg.downloads // 10,
            "platform": "ruby",
            "authors": ", ".join(m.title() for m in pkg.maintainers),
            "info": f"{pkg.name} gem",
            "licenses": ["MIT"],
            "metadata": metadata,
            "yanked": False,
            "project_uri": f"{self.base_url}/rubygems/gems/{pkg.name}",
            "homepage_uri": pkg.homepage,
            "source_code_uri": metadata.get("source_code_uri"),
            "bug_tracker_uri": None,
            "funding_uri": metadata.get("funding_uri"),
        }
        return _json(doc, pkg.released)

    # -- Maven --------------------------------------------------------------------------

    def _serve_maven(self, method: str, rest: list[str], params: dict, body: bytes) -> Any:
        if len(rest) < 3:
            raise _NotFound
        if rest[-1] == "maven-metadata.xml":
            group, artifact = ".".join(rest[:-2]), rest[-2]
            pkg = self._need("maven", f"{group}:{artifact}")
            versions = "".join(f"<version>{escape(v)}</version>" for v in pkg.all_versions)
            stamp = pkg.released.strftime("%Y%m%d%H%M%S")
            xml = (
                '<?xml version="1.0" encoding="UTF-8"?>\n<metadata><groupId>'
                f"{escape(group)}</groupId><artifactId>{escape(artifact)}</artifactId>"
                f"<versioning><latest>{pkg.version}</latest><release>{pkg.version}</release>"
                f"<versions>{versions}</versions><lastUpdated>{stamp}</lastUpdated>"
                "</versioning></metadata>"
            )
            return xml.encode(), "text/xml", pkg.released
        if len(rest) >= 4 and rest[-1].endswith(".pom"):
            group, artifact, version = ".".join(rest[:-3]), rest[-3], rest[-2]
            if rest[-1] != f"{artifact}-{version}.pom":
                raise _NotFound
            pkg = self.package("maven", f"{group}:{artifact}")
            if pkg is None and artifact.endswith("-parent"):
                child = self.package("maven", f"{group}:{artifact[: -len('-parent')]}")
                if child is not None and child.repo_url_style == "parent":
                    xml = _parent_pom(child, group, artifact, version)
                    return xml.encode(), "text/xml", child.released
            if pkg is None or version not in pkg.all_versions:
                raise _NotFound
            return _pom(pkg, group, artifact, version).encode(), "text/xml", pkg.released
        raise _NotFound

    # -- NuGet --------------------------------------------------------------------------

    def _serve_nuget(self, method: str, rest: list[str], params: dict, body: bytes) -> Any:
        base = f"{self.base_url}/nuget"
        if rest[:2] == ["v3", "registration5-gz-semver2"] and len(rest) == 4:
            pkg = self._need("nuget", rest[2])
            lower = pkg.name.lower()
            leaves = []
            for i, version in enumerate(pkg.all_versions):
                entry: dict[str, Any] = {
                    "@id": f"{base}/v3/catalog0/data/{lower}.{version}.json",
                    "id": pkg.name,
                    "version": version,
                    "authors": ", ".join(m.title() for m in pkg.maintainers),
                    "projectUrl": pkg.homepage or (f"https://{pkg.repo}" if pkg.repo else ""),
                    "published": (
                        pkg.released - timedelta(days=45 * (len(pkg.all_versions) - 1 - i))
                    )
                    .isoformat()
                    .replace("+00:00", "+00:00"),
                    "listed": True,
                    "vulnerabilities": [
                        {"advisoryUrl": "https://github.com/advisories/GHSA-x", "severity": "2"}
                    ]
                    * pkg.advisories,
                }
                if pkg.deprecated and version == pkg.version:
                    entry["deprecation"] = {"reasons": ["Legacy"], "message": "use another"}
                leaves.append(
                    {
                        "@id": f"{base}/v3/registration5-gz-semver2/{lower}/{version}.json",
                        "catalogEntry": entry,
                        "packageContent": (
                            f"{base}/v3-flatcontainer/{lower}/{version}/{lower}.{version}.nupkg"
                        ),
                    }
                )
            doc = {
                "@id": f"{base}/v3/registration5-gz-semver2/{lower}/index.json",
                "count": 1,
                "items": [
                    {
                        "@id": f"{base}/v3/registration5-gz-semver2/{lower}/index.json#page/a/b",
                        "count": len(leaves),
                        "lower": pkg.all_versions[0],
                        "upper": pkg.all_versions[-1],
                        "items": leaves,
                    }
                ],
            }
            return _json(doc, pkg.released)
        if rest[:1] == ["v3-flatcontainer"] and len(rest) == 4 and rest[3].endswith(".nuspec"):
            pkg = self._need("nuget", rest[1])
            repo = (
                f'<repository type="git" url="{escape(pkg.repo_url() or "")}" commit="abc" />'
                if pkg.repo
                else ""
            )
            xml = (
                '<?xml version="1.0" encoding="utf-8"?>\n'
                '<package xmlns="http://schemas.microsoft.com/packaging/2013/05/nuspec.xsd">'
                f"<metadata><id>{escape(pkg.name)}</id><version>{escape(rest[2])}</version>"
                f"<authors>{escape(', '.join(pkg.maintainers))}</authors>{repo}"
                f"<projectUrl>{escape(pkg.homepage or '')}</projectUrl></metadata></package>"
            )
            return xml.encode(), "application/xml", pkg.released
        if rest == ["query"]:
            query = params.get("q", "")
            wanted = query.split(":", 1)[1] if query.startswith("packageid:") else query
            pkg = self.package("nuget", wanted)
            data = []
            if pkg is not None:
                data.append(
                    {
                        "id": pkg.name,
                        "version": pkg.version,
                        "owners": list(pkg.maintainers),
                        "totalDownloads": pkg.downloads,
                        "verified": True,
                    }
                )
            return _json({"totalHits": len(data), "data": data}, None)
        raise _NotFound

    # -- Go -----------------------------------------------------------------------------

    def _serve_go(self, method: str, rest: list[str], params: dict, body: bytes) -> Any:
        if len(rest) < 3 or rest[-1] != "@latest":
            raise _NotFound
        module = _unescape_module("/".join(rest[:-1]))
        pkg = self._need("golang", module)
        doc: dict[str, Any] = {"Version": pkg.version, "Time": pkg.released_at}
        if pkg.repo and pkg.go_origin:
            doc["Origin"] = {
                "VCS": "git",
                "URL": f"https://{pkg.repo}",
                "Ref": f"refs/tags/{pkg.version}",
                "Hash": hashlib.sha1(pkg.name.encode()).hexdigest(),
            }
        return _json(doc, pkg.released)

    def _serve_govanity(self, method: str, rest: list[str], params: dict, body: bytes) -> Any:
        module = "/".join(rest)
        pkg = next(
            (
                p
                for (t, _), p in self.packages.items()
                if t == "golang" and (p.name == module or p.name.startswith(module + "/"))
            ),
            None,
        )
        if pkg is None or params.get("go-get") != "1":
            raise _NotFound
        root = f"https://{pkg.repo}" if pkg.repo else "https://example.org/none"
        html = (
            "<!DOCTYPE html><html><head>"
            '<meta http-equiv="Content-Type" content="text/html; charset=utf-8"/>'
            f'<meta name="go-import" content="{escape(pkg.name)} git {escape(root)}">'
            f'<meta name="go-source" content="{escape(pkg.name)} {escape(root)} _ _">'
            "</head><body>go get</body></html>"
        )
        return html.encode(), "text/html; charset=utf-8", pkg.released

    # -- deps.dev -------------------------------------------------------------------------

    def _serve_depsdev(self, method: str, rest: list[str], params: dict, body: bytes) -> Any:
        if rest[:2] == ["v3", "projects"] and len(rest) == 3:
            repo = self.repos.get(rest[2].lower())
            if repo is None:
                raise _NotFound
            doc: dict[str, Any] = {
                "projectKey": {"id": repo.key},
                "openIssuesCount": 3,
                "starsCount": repo.stars,
                "forksCount": 10,
                "license": "MIT",
                "description": "",
                "homepage": repo.homepage or "",
            }
            if repo.scorecard is not None:
                checks = [
                    {
                        "name": "Code-Review",
                        "documentation": {"shortDescription": "", "url": ""},
                        "score": 8,
                        "reason": "",
                        "details": [],
                    }
                ]
                if repo.maintained is not None:
                    checks.append(
                        {
                            "name": "Maintained",
                            "documentation": {"shortDescription": "", "url": ""},
                            "score": repo.maintained,
                            "reason": "",
                            "details": [],
                        }
                    )
                doc["scorecard"] = {
                    "date": "2024-06-03T00:00:00Z",
                    "repository": {"name": repo.key, "commit": "abc"},
                    "scorecard": {"version": "v5.0.0", "commit": "def"},
                    "checks": checks,
                    "overallScore": repo.scorecard,
                    "metadata": [],
                }
            return _json(doc, None)
        if rest[:2] != ["v3", "systems"] or len(rest) < 5 or rest[3] != "packages":
            raise _NotFound
        system = rest[2].lower()
        purl_type = _DEPSDEV_TYPES.get(system)
        if purl_type is None:
            raise _NotFound
        pkg = self._need(purl_type, rest[4])
        system_name = _DEPSDEV_SYSTEMS[system]
        if len(rest) == 5:
            versions = [
                {
                    "versionKey": {"system": system_name, "name": pkg.name, "version": v},
                    "publishedAt": (
                        pkg.released - timedelta(days=30 * (len(pkg.all_versions) - 1 - i))
                    )
                    .isoformat()
                    .replace("+00:00", "Z"),
                    "isDefault": v == pkg.version,
                }
                for i, v in enumerate(pkg.all_versions)
            ]
            return _json(
                {"packageKey": {"system": system_name, "name": pkg.name}, "versions": versions},
                pkg.released,
            )
        if len(rest) == 7 and rest[5] == "versions":
            related = []
            if pkg.repo:
                if pkg.attested:
                    related.append(
                        {
                            "projectKey": {"id": "github.com/mirror/unverified"},
                            "relationProvenance": "UNVERIFIED_METADATA",
                            "relationType": "SOURCE_REPO",
                        }
                    )
                related.append(
                    {
                        "projectKey": {"id": pkg.repo},
                        "relationProvenance": "SLSA_ATTESTATION"
                        if pkg.attested
                        else "UNVERIFIED_METADATA",
                        "relationType": "SOURCE_REPO",
                    }
                )
                related.append(
                    {
                        "projectKey": {"id": pkg.repo},
                        "relationProvenance": "UNVERIFIED_METADATA",
                        "relationType": "ISSUE_TRACKER",
                    }
                )
            links = [{"label": "SOURCE_REPO", "url": f"https://{pkg.repo}"}] if pkg.repo else []
            if pkg.homepage:
                links.append({"label": "HOMEPAGE", "url": pkg.homepage})
            doc = {
                "versionKey": {"system": system_name, "name": pkg.name, "version": rest[6]},
                "publishedAt": pkg.released_at,
                "isDefault": rest[6] == pkg.version,
                "licenses": ["MIT"],
                "advisoryKeys": [{"id": f"GHSA-fake-{i}"} for i in range(pkg.advisories)],
                "links": links,
                "slsaProvenances": [],
                "attestations": [],
                "registries": [],
                "relatedProjects": related,
            }
            return _json(doc, pkg.released)
        raise _NotFound

    # -- ecosyste.ms ----------------------------------------------------------------------

    def _ecosystems_doc(self, pkg: FakePackage) -> dict[str, Any]:
        registry = next(r for r, t in _ECOSYSTEMS_REGISTRIES.items() if t == pkg.purl_type)
        repo = self.repos.get(pkg.repo.lower()) if pkg.repo else None
        return {
            "id": abs(hash(pkg.purl)) % 10_000_000,
            "name": pkg.name,
            "ecosystem": pkg.purl_type,
            "description": f"{pkg.name} package",
            "homepage": pkg.homepage,
            "licenses": "MIT",
            "normalized_licenses": ["MIT"],
            "repository_url": f"https://{pkg.repo}" if pkg.repo else None,
            "keywords_array": [],
            "namespace": None,
            "versions_count": len(pkg.all_versions),
            "first_release_published_at": "2015-01-01T00:00:00.000Z",
            "latest_release_published_at": pkg.released.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "latest_release_number": pkg.version,
            "downloads": pkg.downloads,
            "downloads_period": "last-month",
            "dependent_packages_count": pkg.dependents,
            "dependent_repos_count": pkg.dependents * 3,
            "purl": pkg.purl,
            "advisories": [{"uuid": f"adv-{i}"} for i in range(pkg.advisories)],
            "status": "deprecated" if pkg.deprecated else None,
            "funding_links": list(pkg.funding),
            "maintainers": [
                {
                    "uuid": f"u-{m}",
                    "login": m,
                    "name": m.title(),
                    "email": None,
                    "url": None,
                    "role": None,
                }
                for m in pkg.maintainers
            ],
            "critical": False,
            "repo_metadata": {
                "html_url": f"https://{pkg.repo}",
                "archived": repo.archived if repo else False,
                "owner_record": {"kind": (repo.owner_type if repo else "user").lower()},
            }
            if pkg.repo
            else None,
            "registry": {"name": registry, "ecosystem": pkg.purl_type},
        }

    def _serve_ecosystems(self, method: str, rest: list[str], params: dict, body: bytes) -> Any:
        if rest[:2] != ["api", "v1"]:
            raise _NotFound
        tail = rest[2:]
        if tail == ["packages", "bulk_lookup"] and method == "POST":
            try:
                request = json.loads(body or b"{}")
            except ValueError:
                return _json_response(400, {"error": "invalid JSON"})
            purls = request.get("purls") or []
            if len(purls) > 100:
                return _json_response(400, {"error": "Maximum 100 PURLs allowed per request"})
            found = []
            for purl in purls:
                pkg = self._by_purl(purl)
                if pkg is not None:
                    found.append(self._ecosystems_doc(pkg))
            return _json(found, None)
        if tail == ["packages", "lookup"]:
            pkg = self._by_purl(params.get("purl", ""))
            return _json([self._ecosystems_doc(pkg)] if pkg else [], None)
        if len(tail) == 4 and tail[0] == "registries" and tail[2] == "packages":
            purl_type = _ECOSYSTEMS_REGISTRIES.get(tail[1])
            if purl_type is None:
                raise _NotFound
            pkg = self._need(purl_type, tail[3])
            return _json(self._ecosystems_doc(pkg), pkg.released)
        raise _NotFound

    def _by_purl(self, purl: str) -> FakePackage | None:
        if not purl.startswith("pkg:") or "/" not in purl:
            return None
        purl = purl.split("@", 1)[0] if not purl.startswith("pkg:npm/@") else purl
        purl_type, _, path = purl[4:].partition("/")
        path = unquote(path.split("?", 1)[0])
        if purl_type == "maven":
            group, _, artifact = path.rpartition("/")
            return self.package("maven", f"{group}:{artifact}")
        return self.package(purl_type, path)

    # -- GitHub ---------------------------------------------------------------------------

    def _serve_github(self, method: str, rest: list[str], params: dict, body: bytes) -> Any:
        if rest == ["graphql"] and method == "POST":
            return self._github_graphql(json.loads(body))
        if len(rest) < 3 or rest[0] != "repos":
            raise _NotFound
        repo = self.repos.get(f"github.com/{rest[1]}/{rest[2]}".lower())
        if repo is None:
            raise _NotFound
        modified = _parse_iso(repo.pushed_at)
        tail = rest[3:]
        if not tail:
            doc = {
                "id": abs(hash(repo.key)) % 10_000_000,
                "name": repo.name,
                "full_name": f"{repo.owner}/{repo.name}",
                "owner": {"login": repo.owner, "type": repo.owner_type},
                "html_url": f"https://{repo.key}",
                "homepage": repo.homepage,
                "fork": False,
                "archived": repo.archived,
                "disabled": False,
                "pushed_at": repo.pushed_at,
                "stargazers_count": repo.stars,
                "default_branch": "main",
            }
            return _json(doc, modified)
        if tail == ["contents"]:  # the root listing: what exists at the top
            names = {"README.md": "file", ".github": "dir"}  # workflows, say
            if repo.funding_yml is not None:
                top = repo.funding_yml_path.split("/")[0]
                names[top] = "dir" if "/" in repo.funding_yml_path else "file"
            if repo.funding_json is not None:
                names["funding.json"] = "file"
            listing = [{"name": n, "path": n, "type": t} for n, t in sorted(names.items())]
            return _json(listing, modified)
        if tail[0] == "contents":
            path = "/".join(tail[1:])
            text = None
            if repo.funding_yml is not None and path == repo.funding_yml_path:
                text = repo.funding_yml
            elif repo.funding_json is not None and path == "funding.json":
                text = json.dumps(repo.funding_json)
            if text is None:
                raise _NotFound
            encoded = base64.encodebytes(text.encode()).decode()
            doc = {
                "type": "file",
                "encoding": "base64",
                "size": len(text),
                "name": path.rsplit("/", 1)[-1],
                "path": path,
                "content": encoded,
                "sha": hashlib.sha1(text.encode()).hexdigest(),
            }
            return _json(doc, modified)
        if tail == ["contributors"]:
            people = [
                {
                    "login": login,
                    "id": i + 1,
                    "type": "Bot" if login.endswith("[bot]") else "User",
                    "contributions": count,
                }
                for i, (login, count) in enumerate(repo.contributors)
            ]
            return _json(people, modified)
        raise _NotFound

    def _github_graphql(self, request: Mapping[str, Any]) -> FakeResponse:
        """GitHub's GraphQL answer to the batch query: one ``rN`` alias per repository
        (owner and name in the variables ``oN``/``nN``), NOT_FOUND errors for the missing."""
        variables = request.get("variables") or {}
        if "query" not in request or "rateLimit" not in request["query"]:
            return _json_response(400, {"message": "Problems parsing JSON"})
        data: dict[str, Any] = {"rateLimit": {"cost": 1, "remaining": 4999, "resetAt": None}}
        errors = []
        index = 0
        while f"o{index}" in variables:
            alias = f"r{index}"
            repo = self.repos.get(
                f"github.com/{variables[f'o{index}']}/{variables[f'n{index}']}".lower()
            )
            if repo is None:
                data[alias] = None
                errors.append({"type": "NOT_FOUND", "path": [alias], "message": "not found"})
            else:
                data[alias] = self._graphql_repo(repo)
            index += 1
        body = {"data": data, **({"errors": errors} if errors else {})}
        return _json_response(200, body)

    def _graphql_repo(self, repo: FakeRepo) -> dict[str, Any]:
        def blob(path: str) -> dict[str, str] | None:
            if repo.funding_yml is not None and path == repo.funding_yml_path:
                return {"text": repo.funding_yml}
            if repo.funding_json is not None and path == "funding.json":
                return {"text": json.dumps(repo.funding_json)}
            return None

        authors = [
            {"author": {"user": {"login": login, "company": None}}}
            for login, count in repo.contributors
            for _ in range(min(count, 100))
        ][:100]
        return {
            "nameWithOwner": f"{repo.owner}/{repo.name}",
            "isArchived": repo.archived,
            "isDisabled": False,
            "createdAt": "2015-01-01T00:00:00Z",
            "pushedAt": repo.pushed_at,
            "homepageUrl": repo.homepage,
            "description": None,
            "isSecurityPolicyEnabled": False,
            "owner": {"__typename": repo.owner_type, "login": repo.owner},
            "licenseInfo": {"spdxId": "MIT"},
            "fundingYml0": blob(".github/FUNDING.yml"),
            "fundingYml1": blob("FUNDING.yml"),
            "fundingYml2": blob("docs/FUNDING.yml"),
            "fundingJson": blob("funding.json"),
            "releases": {"totalCount": 0, "nodes": []},
            "defaultBranchRef": {
                "target": {"history": {"totalCount": len(authors), "nodes": authors}}
            },
            "closedIssues": {"totalCount": 0},
            "updatedIssues": {"totalCount": 0, "nodes": []},
        }

    def _need(self, purl_type: str, name: str) -> FakePackage:
        pkg = self.package(purl_type, name)
        if pkg is None:
            raise _NotFound
        return pkg


class _NotFound(Exception):
    pass


_REASONS = {
    200: "OK",
    204: "No Content",
    301: "Moved Permanently",
    302: "Found",
    304: "Not Modified",
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


def _fold(purl_type: str, name: str) -> str:
    if purl_type == "pypi":
        return name.lower().replace("_", "-").replace(".", "-")
    if purl_type in {"npm", "nuget", "gem", "cargo"}:
        return name.lower()
    return name


def _parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def _unescape_module(path: str) -> str:
    out, upper = [], False
    for ch in path:
        if ch == "!":
            upper = True
            continue
        out.append(ch.upper() if upper else ch)
        upper = False
    return "".join(out)


def _json(doc: Any, modified: datetime | None) -> tuple[bytes, str, datetime | None]:
    return json.dumps(doc).encode(), "application/json", modified


def _json_response(status: int, doc: Any) -> FakeResponse:
    return FakeResponse(status, {"Content-Type": "application/json"}, json.dumps(doc).encode())


def _conditional(
    content: bytes, content_type: str, modified: datetime | None, headers: Mapping[str, str]
) -> FakeResponse:
    etag = '"' + hashlib.sha256(content).hexdigest()[:20] + '"'
    out = {"Content-Type": content_type, "ETag": etag, "Cache-Control": "max-age=300"}
    if modified is not None:
        out["Last-Modified"] = format_datetime(modified.astimezone(UTC), usegmt=True)
    if_none_match = headers.get("if-none-match")
    if if_none_match is not None:
        tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
        if "*" in tags or etag in tags:
            return FakeResponse(304, out, b"")
    elif modified is not None and headers.get("if-modified-since"):
        try:
            since = parsedate_to_datetime(headers["if-modified-since"])
        except (TypeError, ValueError):
            since = None
        if since is not None and modified.replace(microsecond=0) <= since:
            return FakeResponse(304, out, b"")
    return FakeResponse(200, out, content)


def _pom(pkg: FakePackage, group: str, artifact: str, version: str) -> str:
    ns = 'xmlns="http://maven.apache.org/POM/4.0.0"'
    devs = "".join(
        f"<developer><id>{escape(m)}</id><name>{escape(m.title())}</name></developer>"
        for m in pkg.maintainers
    )
    if pkg.repo_url_style == "parent" and version == pkg.version:
        # The artifact's own POM has no <scm>; its parent (same groupId) has one.
        return (
            f'<?xml version="1.0"?><project {ns}><modelVersion>4.0.0</modelVersion>'
            f"<parent><groupId>{escape(group)}</groupId><artifactId>{escape(artifact)}-parent"
            f"</artifactId><version>{escape(version)}</version></parent>"
            f"<artifactId>{escape(artifact)}</artifactId><developers>{devs}</developers>"
            "</project>"
        )
    scm = ""
    if pkg.repo:
        scm = (
            f"<scm><connection>scm:git:https://{escape(pkg.repo)}.git</connection>"
            f"<url>https://{escape(pkg.repo)}/tree/${{project.scm.tag}}</url></scm>"
        )
    return (
        f'<?xml version="1.0"?><project {ns}><modelVersion>4.0.0</modelVersion>'
        f"<groupId>{escape(group)}</groupId><artifactId>{escape(artifact)}</artifactId>"
        f"<version>{escape(version)}</version>"
        f"<url>{escape(pkg.homepage or '')}</url><developers>{devs}</developers>{scm}</project>"
    )


def _parent_pom(child: FakePackage, group: str, artifact: str, version: str) -> str:
    return (
        '<?xml version="1.0"?><project xmlns="http://maven.apache.org/POM/4.0.0">'
        f"<modelVersion>4.0.0</modelVersion><groupId>{escape(group)}</groupId>"
        f"<artifactId>{escape(artifact)}</artifactId><version>{escape(version)}</version>"
        "<packaging>pom</packaging>"
        f"<url>https://{escape(child.repo or '')}</url>"
        f"<scm><url>https://{escape(child.repo or '')}</url></scm></project>"
    )


# --- catalogues --------------------------------------------------------------------


def sample_catalogue() -> tuple[list[FakePackage], list[FakeRepo]]:
    """A handful of realistic packages, one or more per ecosystem, and their repos."""
    packages = [
        FakePackage(
            "pypi",
            "requests",
            "2.32.3",
            repo="github.com/psf/requests",
            maintainers=["nateprewitt", "graffatcolmingov"],
            funding=["https://opencollective.com/psf"],
            homepage="https://requests.readthedocs.io",
            released_at="2024-05-29T15:37:47Z",
            versions=["2.31.0", "2.32.0", "2.32.3"],
        ),
        FakePackage(
            "npm",
            "@babel/core",
            "7.24.7",
            repo="github.com/babel/babel",
            repo_url_style="git+https",
            maintainers=["nicolo-ribaudo", "jlhwung", "existentialism"],
            funding=["https://opencollective.com/babel"],
            released_at="2024-06-05T13:15:24Z",
            attested=True,
        ),
        FakePackage(
            "npm",
            "left-pad",
            "1.3.0",
            repo="github.com/left-pad/left-pad",
            repo_url_style="shorthand",
            maintainers=["stevemao"],
            deprecated=True,
            released_at="2018-04-09T00:00:00Z",
        ),
        FakePackage(
            "cargo",
            "serde",
            "1.0.203",
            repo="github.com/serde-rs/serde",
            maintainers=["dtolnay"],
            homepage="https://serde.rs",
            released_at="2024-05-25T20:00:00Z",
            downloads=40_000_000,
        ),
        FakePackage(
            "gem",
            "rails",
            "7.1.3.4",
            repo="github.com/rails/rails",
            maintainers=["rafaelfranca", "tenderlove"],
            funding=["https://github.com/sponsors/rails"],
            homepage="https://rubyonrails.org",
            released_at="2024-06-04T00:00:00Z",
        ),
        FakePackage(
            "maven",
            "org.apache.commons:commons-lang3",
            "3.14.0",
            repo="github.com/apache/commons-lang",
            maintainers=["bayard", "ggregory"],
            homepage="https://commons.apache.org/proper/commons-lang/",
            released_at="2023-11-18T00:00:00Z",
            versions=["3.12.0", "3.13.0", "3.14.0"],
        ),
        FakePackage(
            "maven",
            "com.example.multi:multi-core",
            "2.0.0",
            repo="github.com/example/multi",
            repo_url_style="parent",
            maintainers=["carol"],
            released_at="2024-02-01T00:00:00Z",
        ),
        FakePackage(
            "nuget",
            "Newtonsoft.Json",
            "13.0.3",
            repo="github.com/JamesNK/Newtonsoft.Json",
            repo_url_style="git+https",
            maintainers=["jamesnk", "newtonsoft"],
            homepage="https://www.newtonsoft.com/json",
            released_at="2023-03-08T07:42:54Z",
            advisories=1,
        ),
        FakePackage(
            "golang",
            "github.com/spf13/cobra",
            "v1.8.0",
            repo="github.com/spf13/cobra",
            maintainers=[],
            released_at="2023-11-05T00:00:00Z",
        ),
        FakePackage(
            "golang",
            "go.uber.org/zap",
            "v1.27.0",
            repo="github.com/uber-go/zap",
            maintainers=[],
            released_at="2024-02-20T00:00:00Z",
        ),
    ]
    repos = [
        FakeRepo(
            "github.com/psf/requests",
            funding_yml="custom: ['https://www.python.org/psf/sponsorship/']\ngithub: [psf]\n",
            contributors=[("kennethreitz", 3000), ("nateprewitt", 900), ("dependabot[bot]", 80)],
            scorecard=7.1,
            maintained=10,
        ),
        FakeRepo(
            "github.com/babel/babel",
            funding_yml="open_collective: babel\ntidelift: npm/@babel/core\n",
            contributors=[("nicolo-ribaudo", 2000), ("jlhwung", 1500)],
            scorecard=6.4,
        ),
        FakeRepo("github.com/left-pad/left-pad", archived=True, owner_type="User", scorecard=2.1),
        FakeRepo(
            "github.com/serde-rs/serde",
            funding_yml="github: dtolnay\n",
            funding_yml_path="FUNDING.yml",
            contributors=[("dtolnay", 2500)],
            scorecard=5.9,
            maintained=10,
        ),
        FakeRepo("github.com/rails/rails", contributors=[("dhh", 5000), ("tenderlove", 3000)]),
        FakeRepo("github.com/apache/commons-lang", scorecard=7.5),
        FakeRepo("github.com/example/multi"),
        FakeRepo(
            "github.com/jamesnk/newtonsoft.json",
            owner_type="User",
            funding_yml="github: JamesNK\ncustom: https://www.newtonsoft.com/store\n",
            contributors=[("JamesNK", 1900)],
        ),
        FakeRepo(
            "github.com/spf13/cobra",
            funding_json={
                "version": "v1.0.0",
                "entity": {
                    "type": "individual",
                    "role": "maintainer",
                    "name": "Steve",
                    "email": "steve@example.org",
                    "webpageUrl": {"url": "https://example.org"},
                },
                "projects": [
                    {
                        "guid": "cobra",
                        "name": "cobra",
                        "description": "CLI library",
                        "webpageUrl": {"url": "https://cobra.dev"},
                        "repositoryUrl": {"url": "https://github.com/spf13/cobra"},
                        "licenses": ["spdx:Apache-2.0"],
                        "tags": ["cli"],
                    }
                ],
                "funding": {
                    "channels": [
                        {
                            "guid": "gh",
                            "type": "payment-provider",
                            "address": "https://github.com/sponsors/spf13",
                            "description": "",
                        }
                    ],
                    "plans": [
                        {
                            "guid": "monthly",
                            "status": "active",
                            "name": "Support",
                            "description": "",
                            "amount": 250,
                            "currency": "USD",
                            "frequency": "monthly",
                            "channels": ["gh"],
                        }
                    ],
                    "history": [],
                },
            },
        ),
        FakeRepo("github.com/uber-go/zap"),
    ]
    return packages, repos


def synthetic_catalogue(
    count: int, *, seed: int = 1, repos_per_owner: int = 3
) -> tuple[list[FakePackage], list[FakeRepo]]:
    """``count`` generated packages spread over the ecosystems (for benchmarks)."""
    rng = random.Random(seed)
    kinds = ["pypi", "npm", "cargo", "gem", "maven", "nuget", "golang"]
    packages: list[FakePackage] = []
    repos: dict[str, FakeRepo] = {}
    for i in range(count):
        kind = kinds[i % len(kinds)]
        owner = f"owner{i // repos_per_owner}"
        repo_key = f"github.com/{owner}/proj{i}"
        name = {
            "pypi": f"pkg-{i}",
            "npm": f"@scope{i % 50}/pkg-{i}" if i % 3 == 0 else f"pkg-{i}",
            "cargo": f"crate_{i}",
            "gem": f"gem-{i}",
            "maven": f"org.example{i % 40}:artifact-{i}",
            "nuget": f"Example.Package{i}",
            "golang": f"github.com/{owner}/proj{i}",
        }[kind]
        day = rng.randrange(1, 900)
        released = datetime(2024, 6, 1, tzinfo=UTC) - timedelta(days=day)
        packages.append(
            FakePackage(
                kind,
                name,
                f"1.{i % 10}.{rng.randrange(10)}",
                repo=repo_key,
                maintainers=[f"user{rng.randrange(count)}" for _ in range(rng.randrange(1, 4))],
                funding=[f"https://github.com/sponsors/{owner}"] if i % 4 == 0 else [],
                released_at=released.isoformat().replace("+00:00", "Z"),
                downloads=rng.randrange(100, 10_000_000),
                dependents=rng.randrange(0, 5000),
                attested=i % 5 == 0,
            )
        )
        repos[repo_key] = FakeRepo(
            repo_key,
            archived=i % 37 == 0,
            funding_yml=f"github: [{owner}]\n" if i % 2 == 0 else None,
            contributors=[(f"user{j}", rng.randrange(1, 500)) for j in range(rng.randrange(1, 6))],
            scorecard=round(rng.uniform(2, 9), 1),
            maintained=rng.randrange(0, 11),
        )
    return packages, list(repos.values())


# --- running it ------------------------------------------------------------------------


class _QuietHandler(WSGIRequestHandler):
    """No access log lines: benchmarks send thousands of requests."""

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


class _Prefixed:
    """WSGI wrapper that serves one source on its own port."""

    def __init__(self, app: FakeRegistries, source: str) -> None:
        self.app = app
        self.source = source

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        environ["fake.source_prefix"] = f"/{self.source}"
        return self.app(environ, start_response)


class RunningFakeRegistries:
    """A started fake: ``base_urls`` to give ``build_providers``, ``stop()`` to end it."""

    def __init__(self, app: FakeRegistries, servers: dict[str, Any], host: str) -> None:
        self.app = app
        self._servers = servers
        self._threads: list[threading.Thread] = []
        self.host = host
        if "*" in servers:
            port = servers["*"].server_port
            self.url = f"http://{host}:{port}"
            self.source_urls = {s: f"{self.url}/{s}" for s in SOURCES}
        else:
            self.url = f"http://{host}:{servers[SOURCES[0]].server_port}"
            self.source_urls = {s: f"http://{host}:{srv.server_port}" for s, srv in servers.items()}
        app.base_url = self.url

    @property
    def base_urls(self) -> dict[str, str]:
        """Base URLs keyed as ``service.projects.providers.build_providers`` expects."""
        urls = {s: self.source_urls[s] for s in SOURCES if s != "govanity"}
        urls["maven"] = self.source_urls["maven"]
        urls["nuget_search"] = f"{self.source_urls['nuget']}/query"
        return urls

    def go_vanity_url(self, module: str) -> str:
        """Where the fake answers ``?go-get=1`` for ``module``."""
        return f"{self.source_urls['govanity']}/{module}?go-get=1"

    def counts(self) -> dict[str, int]:
        return self.app.counts()

    def start(self) -> RunningFakeRegistries:
        for server in self._servers.values():
            # A short poll interval keeps stop() quick (it waits for the next poll).
            thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        for server in self._servers.values():
            server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)

    def __enter__(self) -> RunningFakeRegistries:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_fake_registries(
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    packages: Iterable[FakePackage] | None = None,
    repos: Iterable[FakeRepo] | None = None,
    latency: float | Mapping[str, float] = 0.0,
    separate_ports: bool = False,
    app: FakeRegistries | None = None,
) -> RunningFakeRegistries:
    """Start the fake on a thread (port 0 picks a free port) and return it running.

    With no ``packages``/``repos`` the :func:`sample_catalogue` is served.
    ``separate_ports=True`` gives every source its own port (``port`` is then ignored).
    """
    app = app or FakeRegistries(packages, repos, latency=latency)
    servers: dict[str, Any] = {}
    if separate_ports:
        for source in SOURCES:
            servers[source] = make_server(
                host, 0, _Prefixed(app, source), threaded=True, request_handler=_QuietHandler
            )
    else:
        servers["*"] = make_server(host, port, app, threaded=True, request_handler=_QuietHandler)
    return RunningFakeRegistries(app, servers, host).start()


def _main(argv: list[str] | None = None) -> None:  # pragma: no cover - manual use
    import argparse

    parser = argparse.ArgumentParser(description="Serve fake package registries locally.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added per request")
    parser.add_argument("--packages", type=int, default=0, help="synthetic packages (0: sample)")
    parser.add_argument("--separate-ports", action="store_true")
    args = parser.parse_args(argv)
    packages, repos = synthetic_catalogue(args.packages) if args.packages else sample_catalogue()
    fake = start_fake_registries(
        host=args.host,
        port=args.port,
        packages=packages,
        repos=repos,
        latency=args.latency,
        separate_ports=args.separate_ports,
    )
    urls = dict(fake.base_urls)
    urls["go_vanity"] = f"{fake.source_urls['govanity']}/{{module}}?go-get=1"
    print(json.dumps(urls, indent=2), flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        fake.stop()


if __name__ == "__main__":  # pragma: no cover
    _main()
