"""Go modules: the module proxy's ``@latest`` and, for vanity paths, ``?go-get=1``.

``pkg:golang/github.com/x/y`` names its repository directly.  For other paths the
proxy's ``{proxy}/{module}/@latest`` answer carries ``Origin.URL`` for modules fetched
from a VCS; failing that, the module's own ``https://{path}?go-get=1`` page is read
for ``<meta name="go-import" content="prefix vcs repo-root">``.  ``gopkg.in`` paths
map to GitHub by that service's documented rule.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from html.parser import HTMLParser
from typing import Any

from service.core.fetch_results import FetchError
from service.projects.providers.base import (
    BaseProvider,
    CachedEntry,
    PackageMetadata,
    PackageRef,
    ProviderResult,
    as_dict,
    as_str,
    parse_time,
)
from service.projects.urls import RepoRef

DEFAULT_BASE_URL = "https://proxy.golang.org"
_MODULE_RE = re.compile(r"^[A-Za-z0-9.~_-]+(/[A-Za-z0-9.~_+-]+)+$")
_GOPKG_RE = re.compile(r"^gopkg\.in/(?:([A-Za-z0-9-]+)/)?([A-Za-z0-9_.-]+?)\.v\d+")


def escape_module_path(path: str) -> str:
    """The proxy protocol's case encoding: each upper-case letter becomes ``!`` + lower."""
    return re.sub(r"[A-Z]", lambda m: "!" + m.group(0).lower(), path)


class _GoImportParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.imports: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "meta":
            return
        attributes = {k.lower(): v for k, v in attrs}
        if (attributes.get("name") or "").lower() != "go-import":
            return
        parts = (attributes.get("content") or "").split()
        if len(parts) == 3:
            self.imports.append((parts[0], parts[1], parts[2]))


def parse_go_import(html: str, module: str) -> str | None:
    """The repo root of the ``go-import`` meta tag whose prefix covers ``module``."""
    parser = _GoImportParser()
    try:
        parser.feed(html)
    except (ValueError, AssertionError):
        return None
    for prefix, vcs, root in parser.imports:
        if vcs != "mod" and (module == prefix or module.startswith(prefix.rstrip("/") + "/")):
            return root
    return None


class GoProvider(BaseProvider):
    """Metadata for Go modules."""

    source = "go"
    types = frozenset({"golang"})

    def __init__(
        self,
        *args: Any,
        vanity_url: Callable[[str], str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        # Where to ask a module path for its go-import tag (tests point it at a fake).
        self.vanity_url = vanity_url or (lambda module: f"https://{module}?go-get=1")

    def _fetch(self, ref: PackageRef, cached: CachedEntry | None) -> ProviderResult:
        module = ref.full_name
        if not _MODULE_RE.match(module):
            return self._failure(ref.key, "invalid_package_key", self._now())
        direct = self.direct_repo(module)
        warnings: list[str] = []
        url = f"{self.base_url}/{escape_module_path(module)}/@latest"
        latest: dict[str, Any] = {}
        result = None
        try:
            data, result = self._get_main(url, cached)
        except FetchError as exc:
            if direct is None:
                raise
            warnings.append(f"proxy: {exc.reason}")
        else:
            if result.not_modified:
                return self._not_modified(ref, cached, result)
            latest = as_dict(data)
        provenance = "purl" if direct else None
        repo = direct
        if repo is None:
            origin = as_dict(latest.get("Origin"))
            repo = self._repo(origin.get("URL"))
            provenance = "go_origin" if repo else None
        if repo is None:
            repo = self._vanity(module, warnings)
            provenance = "metadata" if repo else None
        return self._success(
            ref,
            PackageMetadata(
                repository_url=repo.url if repo else None,
                repository_provenance=provenance,
                latest_version=as_str(latest.get("Version")),
                latest_release_at=parse_time(latest.get("Time")),
                raw_source_url=url,
            ),
            result,
            warnings,
        )

    @staticmethod
    def direct_repo(module: str) -> RepoRef | None:
        """Repositories readable from the module path alone (GitHub, gopkg.in)."""
        parts = module.split("/")
        if parts[0].lower() in {"github.com", "gitlab.com", "bitbucket.org"} and len(parts) >= 3:
            host = parts[0].lower()
            if host == "gitlab.com":
                return None  # subgroups make the split ambiguous; ask the proxy
            return RepoRef(host, parts[1].lower(), parts[2].lower())
        match = _GOPKG_RE.match(module)
        if match:
            owner = match.group(1) or f"go-{match.group(2)}"
            return RepoRef("github.com", owner.lower(), match.group(2).lower())
        return None

    def _vanity(self, module: str, warnings: list[str]) -> RepoRef | None:
        candidates = [module]
        parts = module.split("/")
        while len(parts) > 2:
            parts = parts[:-1]
            candidates.append("/".join(parts))
        for candidate in candidates[:3]:
            try:
                result = self.client.get(
                    self.vanity_url(candidate), source=self.source, max_bytes=512 * 1024
                )
            except FetchError as exc:
                if exc.reason != "http_404":
                    warnings.append(f"go-get: {exc.reason}")
                    return None
                continue
            root = parse_go_import(result.text, module)
            if root:
                return self._repo(root)
        return None
