"""PyPI JSON API: ``GET {base}/pypi/{name}/json``.

Reads ``info.project_urls`` / ``info.home_page`` for the repository and funding links,
``ownership.roles`` ([{role, user}]) for the people who can publish, the release
files' upload times for release recency, and the project's status (PEP 792 markers, the
"Inactive" classifier, a yanked latest release) for deprecation.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from service.projects.funding import channel_from_url
from service.projects.providers.base import (
    BaseProvider,
    CachedEntry,
    PackageMetadata,
    PackageRef,
    Person,
    ProviderResult,
    as_dict,
    as_list,
    as_str,
    merge_funding,
    parse_time,
    short_text,
    web_url,
)

DEFAULT_BASE_URL = "https://pypi.org"

# project_urls labels, normalized as PEP 753 does (lowercase, punctuation removed).
_REPO_LABELS = ("source", "sourcecode", "repository", "code", "github", "gitlab", "git")
_HOME_LABELS = ("homepage", "home")
_FUNDING_LABELS = frozenset({"funding", "sponsor", "sponsors", "donate", "donation", "donations"})


def _label(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


class PyPIProvider(BaseProvider):
    """Metadata from the PyPI JSON API."""

    source = "pypi"
    types = frozenset({"pypi"})

    def _fetch(self, ref: PackageRef, cached: CachedEntry | None) -> ProviderResult:
        url = f"{self.base_url}/pypi/{ref.quoted()}/json"
        data, result = self._get_main(url, cached)
        if result.not_modified:
            return self._not_modified(ref, cached, result)
        if not isinstance(data, dict):
            return self._failure(ref.key, "invalid_shape", self._now())
        return self._success(ref, self.parse(data, url), result)

    def parse(self, data: dict[str, Any], url: str | None = None) -> PackageMetadata:
        """Normalize a PyPI JSON document."""
        info = as_dict(data.get("info"))
        labelled: dict[str, str] = {}
        all_urls: list[str] = []
        for label, link in as_dict(info.get("project_urls")).items():
            if isinstance(label, str) and isinstance(link, str):
                labelled.setdefault(_label(label), link)
                all_urls.append(link)

        repo = self._repo(
            *(labelled.get(lbl) for lbl in _REPO_LABELS),
            *(labelled.get(lbl) for lbl in _HOME_LABELS),
            info.get("home_page"),
            *all_urls,
            info.get("download_url"),
        )
        homepage = web_url(labelled.get("homepage")) or web_url(info.get("home_page"))

        funding = [
            channel
            for label, link in labelled.items()
            if label in _FUNDING_LABELS
            for channel in [channel_from_url(link, source="pypi")]
            if channel is not None
        ]

        maintainers, publishers = _people(data.get("ownership"), info)
        release_count, latest_at = _releases(data, info)
        version = as_str(info.get("version"))

        deprecated, archived = _status(data, info)

        return PackageMetadata(
            repository_url=repo.url if repo else None,
            repository_provenance="metadata" if repo else None,
            homepage=homepage,
            description=short_text(info.get("summary")),
            maintainers=tuple(maintainers),
            funding=merge_funding(funding),
            latest_version=version,
            latest_release_at=latest_at,
            release_count=release_count,
            publishers_count=publishers,
            deprecated=deprecated,
            archived=archived,
            raw_source_url=url,
        )


_INACTIVE = "Development Status :: 7 - Inactive"


def _status(data: dict[str, Any], info: dict[str, Any]) -> tuple[bool, bool | None]:
    """(deprecated, archived) as PyPI tells them. A PEP 792 status marker, the project's
    own "Inactive" classifier or a yanked latest release mark it deprecated; PyPI answering
    with none of them says it is not (as npm's answer without ``deprecated`` does). Only a
    marker says archived: PyPI knows nothing else of the repository."""
    status = as_dict(data.get("project-status")) or as_dict(info.get("project_status"))
    name = (as_str(status.get("status")) or "").lower()
    inactive = _INACTIVE in as_list(info.get("classifiers"))
    deprecated = name in {"deprecated", "quarantined"} or inactive or info.get("yanked") is True
    return deprecated, True if name == "archived" else None


def _people(ownership: Any, info: dict[str, Any]) -> tuple[list[Person], int | None]:
    """The project's people (its roles on PyPI, then the author and maintainer the
    metadata names) and how many can publish (None when PyPI does not say)."""
    maintainers: list[Person] = []
    publishers: int | None = None
    if isinstance(ownership, dict):
        for entry in as_list(ownership.get("roles")):
            entry = as_dict(entry)
            user = as_str(entry.get("user"))
            if user:
                role = (as_str(entry.get("role")) or "maintainer").lower()
                maintainers.append(Person(login=user, role=role, source="pypi"))
        publishers = len(maintainers)
    for field_name, email_field in (
        ("author", "author_email"),
        ("maintainer", "maintainer_email"),
    ):
        name = as_str(info.get(field_name))
        email = as_str(info.get(email_field))
        if name or email:
            maintainers.append(Person(name=name, email=email, role=field_name, source="pypi"))
    return maintainers, publishers


def _releases(data: dict[str, Any], info: dict[str, Any]) -> tuple[int | None, datetime | None]:
    """(releases not wholly yanked, when the latest version's files were uploaded)."""
    releases = as_dict(data.get("releases"))
    release_count = None
    if releases:
        release_count = 0
        for files in releases.values():
            files = [f for f in as_list(files) if isinstance(f, dict)]
            if files and not all(f.get("yanked") for f in files):
                release_count += 1
    version = as_str(info.get("version"))
    version_files = as_list(releases.get(version)) if version else as_list(data.get("urls"))
    if not version_files:
        version_files = as_list(data.get("urls"))
    times = [
        parse_time(f.get("upload_time_iso_8601") or f.get("upload_time"))
        for f in version_files
        if isinstance(f, dict)
    ]
    found = [t for t in times if t is not None]
    return release_count, max(found) if found else None
