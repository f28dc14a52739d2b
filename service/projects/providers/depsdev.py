"""deps.dev API v3.

1. ``/v3/systems/{system}/packages/{name}`` — versions, ``publishedAt``, ``isDefault``;
2. ``/v3/systems/{system}/packages/{name}/versions/{version}`` — ``relatedProjects``
   (``relationType`` SOURCE_REPO; attested provenance — SLSA_ATTESTATION,
   PYPI_PUBLISH_ATTESTATION, GO_ORIGIN — preferred over UNVERIFIED_METADATA),
   ``advisoryKeys``, ``links``;
3. ``/v3/projects/{id}`` — OpenSSF Scorecard (overall score and checks).

deps.dev has no RubyGems data; gems are reported ``unsupported``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from service.projects.providers.base import (
    BaseProvider,
    CachedEntry,
    PackageMetadata,
    PackageRef,
    ProviderResult,
    as_dict,
    as_list,
    as_str,
    parse_time,
    web_url,
)

DEFAULT_BASE_URL = "https://api.deps.dev"

SYSTEMS = {
    "pypi": "pypi",
    "npm": "npm",
    "cargo": "cargo",
    "maven": "maven",
    "nuget": "nuget",
    "golang": "go",
}
ATTESTED = frozenset({"SLSA_ATTESTATION", "PYPI_PUBLISH_ATTESTATION"})
_PROVENANCE_RANK = {
    "SLSA_ATTESTATION": 0,
    "PYPI_PUBLISH_ATTESTATION": 0,
    "GO_ORIGIN": 1,
    "UNVERIFIED_METADATA": 2,
}


def pick_source_repo(related: Any) -> tuple[str | None, str | None]:
    """(project id, provenance) of the best SOURCE_REPO relation, attested ones first."""
    best: tuple[int, str, str] | None = None
    for entry in as_list(related):
        entry = as_dict(entry)
        if entry.get("relationType") != "SOURCE_REPO":
            continue
        project_id = as_str(as_dict(entry.get("projectKey")).get("id"))
        if not project_id:
            continue
        provenance = as_str(entry.get("relationProvenance")) or "UNKNOWN"
        rank = _PROVENANCE_RANK.get(provenance, 3)
        if best is None or rank < best[0]:
            best = (rank, project_id, provenance)
    return (best[1], best[2]) if best else (None, None)


def scorecard_summary(project: Any) -> dict[str, Any] | None:
    """``{"overall", "maintained", "date", "checks": {name: score}}`` from a Project."""
    card = as_dict(as_dict(project).get("scorecard"))
    if not card:
        return None
    checks: dict[str, int] = {}
    for check in as_list(card.get("checks")):
        check = as_dict(check)
        name = as_str(check.get("name"))
        score = check.get("score")
        if name and isinstance(score, int | float) and not isinstance(score, bool):
            checks[name] = int(score)
    overall = card.get("overallScore")
    return {
        "overall": float(overall) if isinstance(overall, int | float) else None,
        "maintained": checks.get("Maintained"),
        "date": as_str(card.get("date")),
        "checks": checks,
    }


class DepsDevProvider(BaseProvider):
    """Metadata from deps.dev."""

    source = "depsdev"
    types = frozenset(SYSTEMS)

    def _fetch(self, ref: PackageRef, cached: CachedEntry | None) -> ProviderResult:
        system = SYSTEMS[ref.type]
        package_url = f"{self.base_url}/v3/systems/{system}/packages/{ref.quoted()}"
        data, result = self._get_main(package_url, cached)
        if result.not_modified:
            return self._not_modified(ref, cached, result)
        if not isinstance(data, dict):
            return self._failure(ref.key, "invalid_shape", self._now())
        versions = [as_dict(v) for v in as_list(data.get("versions"))]
        versions = [v for v in versions if as_str(as_dict(v.get("versionKey")).get("version"))]
        if not versions:
            return self._failure(ref.key, "no_release", self._now())
        default = next((v for v in versions if v.get("isDefault")), None)
        if default is None:
            default = max(versions, key=lambda v: str(v.get("publishedAt") or ""))
        version = as_str(as_dict(default.get("versionKey")).get("version")) or ""

        warnings: list[str] = []
        version_url = f"{package_url}/versions/{quote(version, safe='')}"
        version_doc = as_dict(self._get_json_optional(version_url, warnings, "version"))
        project_id, provenance = pick_source_repo(version_doc.get("relatedProjects"))
        links = {
            as_str(as_dict(link).get("label")): as_str(as_dict(link).get("url"))
            for link in as_list(version_doc.get("links"))
        }
        repo = self._repo(project_id and f"https://{project_id}", links.get("SOURCE_REPO"))
        if project_id is None and repo is not None:
            provenance = "UNVERIFIED_METADATA"

        scorecard = None
        if repo is not None:
            project_url = f"{self.base_url}/v3/projects/{quote(repo.key, safe='')}"
            scorecard = scorecard_summary(self._get_json_optional(project_url, warnings, "project"))

        advisories = as_list(version_doc.get("advisoryKeys")) if version_doc else None
        return self._success(
            ref,
            PackageMetadata(
                repository_url=repo.url if repo else None,
                repository_provenance=_provenance(provenance) if repo else None,
                homepage=web_url(links.get("HOMEPAGE")),
                latest_version=version or None,
                latest_release_at=parse_time(default.get("publishedAt")),
                release_count=len(versions),
                scorecard=scorecard,
                advisories=len(advisories) if advisories is not None else None,
                raw_source_url=package_url,
            ),
            result,
            warnings,
        )


def _provenance(relation_provenance: str | None) -> str:
    if relation_provenance in ATTESTED:
        return "attested"
    if relation_provenance == "GO_ORIGIN":
        return "go_origin"
    return "metadata"
