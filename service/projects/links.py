"""Which repository a package links to: the pure rules (purl, SBOM hints, source ranks).

Which link wins when sources disagree: the purl, then the registry (what the publisher
declared, shared by everyone), then deps.dev, then ecosyste.ms — that is the shared
resolution.  For one company, its own SBOM hint comes after the purl and the registry and
before deps.dev (``service.projects.inventory.CompanyResolution``).  Claims made by
maintainers sit above all of these.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from urllib.parse import urlsplit

from service.core.addresses import is_forbidden_host
from service.projects.providers.base import parse_package_key
from service.projects.providers.golang import GoProvider
from service.projects.urls import RepoRef, normalize_repo_url

# Answers that mean "this source does not know the package": not worth a quick retry.
# Refusals (private addresses, odd schemes) are permanent too: retrying changes nothing.
NOT_FOUND_REASONS = frozenset(
    {
        "http_404",
        "http_410",
        "not_in_snapshot",
        "unsupported",
        "invalid_package_key",
        "blocked_address",
        "blocked_scheme",
        "invalid_url",
    }
)
REGISTRY_SOURCES = {
    "pypi": "pypi",
    "npm": "npm",
    "cargo": "crates",
    "gem": "rubygems",
    "maven": "maven",
    "nuget": "nuget",
    "golang": "go",
}


FALLBACK_SOURCES = ("depsdev", "ecosystems")


PACKAGE_SOURCES = (*sorted(set(REGISTRY_SOURCES.values())), *FALLBACK_SOURCES)


LINK_RANK = {"purl": 0, "registry": 1, "depsdev": 3, "ecosystems": 4}


LINKS_ABOVE_HINTS = frozenset({"purl", *REGISTRY_SOURCES.values()})


HINT_ORDER = {"vcs": 0, "source-info": 1, "distribution": 2, "website": 3}


PURL_FORGES = {"github": "github.com", "bitbucket": "bitbucket.org"}


def purl_repository(key: str) -> RepoRef | None:
    """The repository a purl names by itself (GitHub/Bitbucket types, Go module paths)."""
    try:
        ref = parse_package_key(key)
    except ValueError:
        return None
    if ref.type in PURL_FORGES and ref.namespace and "/" not in ref.namespace:
        return normalize_repo_url(f"https://{PURL_FORGES[ref.type]}/{ref.namespace}/{ref.name}")
    if ref.type == "golang":
        return GoProvider.direct_repo(ref.full_name)
    return None


def hint_repository(hints: Iterable[Sequence[str]]) -> tuple[RepoRef | None, list[str]]:
    """The best repository among SBOM hints, and notes about refused ones."""
    notes: list[str] = []
    ordered = sorted(
        (
            (HINT_ORDER.get(str(h[0]), 9), str(h[1]))
            for h in hints
            if isinstance(h, list | tuple) and len(h) == 2 and isinstance(h[1], str)
        ),
        key=lambda pair: pair[0],
    )
    for _rank, url in ordered:
        repo = normalize_repo_url(url)
        if repo is not None:
            return repo, notes
        if _points_inside(url):
            note = "sbom: a hint points to a private or local address (blocked, not fetched)"
            if note not in notes:
                notes.append(note)
    return None, notes


_SCP_HOST = re.compile(r"^[A-Za-z0-9._-]+@([A-Za-z0-9.\[\]:-]+?):(?!//)")


def _points_inside(url: str) -> bool:
    """Whether a repository-looking URL aims at a private, loopback or local host."""
    text = url.strip()
    for prefix in ("git+", "scm:git:"):
        if text.lower().startswith(prefix):
            text = text[len(prefix) :]
    if "://" in text:
        if text.split("://", 1)[0].lower() not in {"http", "https", "git", "ssh"}:
            return False
        try:
            host = urlsplit(text).hostname
        except ValueError:
            return False
    else:
        match = _SCP_HOST.match(text)
        host = match.group(1) if match else None
    return host is not None and host != "" and is_forbidden_host(host)


def source_note(source: str, reason: str) -> str:
    if reason in NOT_FOUND_REASONS and reason.startswith(("blocked", "invalid_url")):
        return f"{source}: {reason} (refused, not fetched)"
    if reason in NOT_FOUND_REASONS:
        return f"{source}: not found ({reason})"
    return f"{source}: {reason}"
