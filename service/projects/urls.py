"""Repository URL normalization: untrusted metadata URLs → one canonical project key.

Registries hand us repository URLs in every shape people type (``git+ssh://…``,
``git@host:owner/name.git``, ``github:owner/name``, Maven ``scm:git:…``, links to
``/tree/main/sub/dir``).  Everything downstream keys projects on ``host/owner/name``,
so this module turns all of them into one :class:`RepoRef` or refuses them.

Pure: no network, no DNS.  A URL pointing at an IP literal, ``localhost`` or a
non-web scheme is refused here already, so a fetch built from a ``RepoRef`` never
starts out aimed at an internal address (the HTTP layer checks resolution too).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import unquote, urlsplit

from service.core.addresses import is_forbidden_host

__all__ = [
    "CASE_INSENSITIVE_HOSTS",
    "KNOWN_FORGES",
    "RepoRef",
    "normalize_repo_url",
]

# Forges whose owner/repository names are case-insensitive: lowercasing them makes
# "github.com/PyCQA/Flake8" and "github.com/pycqa/flake8" one project.
CASE_INSENSITIVE_HOSTS = frozenset({"github.com", "gitlab.com", "bitbucket.org", "codeberg.org"})

# Hosts that serve source repositories at /owner/name (GitLab-like ones allow subgroups).
KNOWN_FORGES = frozenset(
    {
        "github.com",
        "gitlab.com",
        "bitbucket.org",
        "codeberg.org",
        "gitea.com",
        "git.sr.ht",
        "salsa.debian.org",
        "gitlab.gnome.org",
        "gitlab.freedesktop.org",
        "invent.kde.org",
        "framagit.org",
    }
)
_SUBGROUP_HOSTS = frozenset({"gitlab.com", "salsa.debian.org", "invent.kde.org", "framagit.org"})

# npm / shorthand prefixes ("github:owner/name").
_SHORTHAND_HOSTS = {
    "github": "github.com",
    "gitlab": "gitlab.com",
    "bitbucket": "bitbucket.org",
    "codeberg": "codeberg.org",
    "sourcehut": "git.sr.ht",
}

# First path segments on github.com that are site pages, not owners.
_GITHUB_RESERVED = frozenset(
    {
        "about",
        "apps",
        "collections",
        "contact",
        "customer-stories",
        "enterprise",
        "events",
        "explore",
        "features",
        "join",
        "login",
        "marketplace",
        "new",
        "notifications",
        "orgs",
        "organizations",
        "pricing",
        "pulls",
        "issues",
        "search",
        "security",
        "settings",
        "site",
        "sponsors",
        "topics",
        "trending",
        "users",
    }
)

# Path segments after which a forge URL stops naming the repository.
_TAIL_MARKERS = frozenset(
    {
        "-",
        "tree",
        "blob",
        "raw",
        "issues",
        "pulls",
        "pull",
        "merge_requests",
        "commits",
        "commit",
        "wiki",
        "wikis",
        "releases",
        "tags",
        "actions",
        "src",
        "packages",
        "discussions",
    }
)

_SEGMENT_RE = re.compile(r"^[A-Za-z0-9~][A-Za-z0-9._~-]*$")
_HOST_RE = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$")
_SCP_RE = re.compile(r"^(?:[A-Za-z0-9._-]+@)?(?P<host>[A-Za-z0-9.-]+):(?P<path>(?!//).+)$")
_SHORTHAND_RE = re.compile(r"^(?P<owner>[A-Za-z0-9][A-Za-z0-9._-]*)/(?P<name>[A-Za-z0-9._-]+)$")
_ALLOWED_SCHEMES = frozenset({"http", "https", "git", "ssh"})


@dataclass(frozen=True, slots=True)
class RepoRef:
    """A source repository: ``host/owner/name`` (owner may hold GitLab subgroups)."""

    host: str
    owner: str
    name: str

    @property
    def key(self) -> str:
        """Canonical project key, e.g. ``github.com/pallets/flask``."""
        return f"{self.host}/{self.owner}/{self.name}"

    @property
    def url(self) -> str:
        """Canonical https URL of the repository."""
        return f"https://{self.key}"

    def __str__(self) -> str:
        return self.key


def normalize_repo_url(
    url: object, *, extra_hosts: Iterable[str] = (), allow_unknown_hosts: bool = False
) -> RepoRef | None:
    """Turn a repository URL from package metadata into a :class:`RepoRef`, or ``None``.

    ``extra_hosts`` adds forges served on other hosts (a GitHub Enterprise Server, a
    company GitLab).  Hosts that are not known forges are refused unless
    ``allow_unknown_hosts`` is set, because a homepage such as
    ``https://www.python.org/downloads/`` is not a repository.
    """
    if not isinstance(url, str):
        return None
    extras = frozenset(h.lower() for h in extra_hosts) if extra_hosts else frozenset()
    return _normalize(url, extras, allow_unknown_hosts)


# Thousands of packages share a few hundred repository URLs: each is normalised once.
@lru_cache(maxsize=65536)
def _normalize(url: str, extras: frozenset[str], allow_unknown_hosts: bool) -> RepoRef | None:
    text = url.strip()
    if not text or len(text) > 2048 or any(ch.isspace() for ch in text):
        return None

    host, path = _split(text)
    if host is None or path is None:
        return None
    host = host.lower().rstrip(".")
    if host.startswith("www."):
        host = host[4:]
    if is_forbidden_host(host) or not _HOST_RE.match(host):
        return None

    known = host in KNOWN_FORGES or host in extras
    gitlab_like = host in _SUBGROUP_HOSTS or host.startswith("gitlab.")
    if not known and not gitlab_like and not host.startswith("git.") and not allow_unknown_hosts:
        return None

    segments = [unquote(s) for s in path.split("/") if s]
    owner_parts = _repo_segments(host, segments, subgroups=gitlab_like)
    if owner_parts is None:
        return None
    *owner_segments, name = owner_parts
    if name.endswith(".git"):
        name = name[:-4]
    if not name or name in {".", ".."}:
        return None
    if not all(_SEGMENT_RE.match(s) for s in (*owner_segments, name)):
        return None
    owner = "/".join(owner_segments)
    if host == "github.com" and owner.lower() in _GITHUB_RESERVED:
        return None
    if host in CASE_INSENSITIVE_HOSTS:
        owner, name = owner.lower(), name.lower()
    return RepoRef(host=host, owner=owner, name=name)


def _split(text: str) -> tuple[str | None, str | None]:
    """Split any accepted spelling into (host, path); (None, None) when refused."""
    lowered = text.lower()
    for prefix in ("scm:git:", "scm:"):
        if lowered.startswith(prefix):
            text = text[len(prefix) :]
            lowered = text.lower()
            break
    if lowered.startswith("git+"):
        text = text[4:]
        lowered = text.lower()

    # Shorthand "github:owner/name" (npm) before the generic scheme check.
    short = re.match(r"^([a-z]+):(?!//)(.+)$", lowered)
    if short and short.group(1) in _SHORTHAND_HOSTS:
        rest = text[len(short.group(1)) + 1 :]
        return _SHORTHAND_HOSTS[short.group(1)], _strip_tail(rest)

    if "://" in text:
        scheme, _, remainder = text.partition("://")
        if scheme.lower() not in _ALLOWED_SCHEMES:
            return None, None
        try:
            parts = urlsplit(text)
            parts.port  # noqa: B018 - raises ValueError on a malformed port
        except ValueError:
            # "ssh://git@host:owner/name" mixes two spellings; read it as scp-like.
            scp = _SCP_RE.match(_strip_tail(remainder))
            if scheme.lower() in {"ssh", "git"} and scp:
                return scp.group("host"), scp.group("path")
            return None, None
        if not parts.hostname:
            return None, None
        return parts.hostname, parts.path

    scp = _SCP_RE.match(text)
    if scp and "." in scp.group("host"):
        return scp.group("host"), _strip_tail(scp.group("path"))

    if ":" in text.split("/", 1)[0]:
        # Any other "scheme:" (javascript:, file:, data:, mailto:) is refused.
        return None, None

    bare = _strip_tail(text)
    first, _, rest = bare.partition("/")
    # Scheme-less "github.com/owner/name".
    if "." in first:
        return (first, rest) if rest else (None, None)
    # npm shorthand "owner/name" means GitHub.
    if _SHORTHAND_RE.match(bare):
        return "github.com", bare
    return None, None


def _strip_tail(text: str) -> str:
    """Drop a query string and fragment from a scheme-less spelling."""
    return text.split("#", 1)[0].split("?", 1)[0]


def _repo_segments(host: str, segments: list[str], *, subgroups: bool) -> list[str] | None:
    """Return [owner..., name] from URL path segments, or None if it names no repository."""
    if subgroups:
        kept: list[str] = []
        for seg in segments:
            if seg in _TAIL_MARKERS and len(kept) >= 2:
                break
            kept.append(seg)
        return kept if len(kept) >= 2 else None
    if len(segments) < 2:
        return None
    if host == "git.sr.ht" and not segments[0].startswith("~"):
        return None
    return segments[:2]
