"""The signals of every project a company depends on, read from stored data. No network.

Where each signal comes from (every value carries the source and fetched-at of the row
it was read from):

| signal                 | from                                                           |
|------------------------|----------------------------------------------------------------|
| products_using         | the company's SBOMs: products using the project / all products |
| direct                 | the company's SBOMs: depth 1 in any product                    |
| publishers             | `publishers_count` (registry, then ecosyste.ms, deps.dev); the |
|                        | fewest over the project's packages (the weakest link)          |
| active_contributors    | `active_contributors` of the repository (commit authors in the |
|                        | last year), else `contributors_count` (its top contributors)   |
| months_since_release   | whole months since the newest `latest_release_at` of its       |
|                        | packages (registry, then ecosyste.ms, deps.dev)                |
| scorecard_maintained   | `scorecard.maintained` (deps.dev)                              |
| scorecard_score        | `scorecard.overall` (deps.dev)                                 |
| advisories             | `advisories` per package (deps.dev, then ecosyste.ms, the      |
|                        | registry), summed over the project's packages                  |
| dependents             | `dependents` (deps.dev, then ecosyste.ms); the most of any     |
|                        | of its packages                                                |
| downloads              | `downloads` per month (a 90-day count is divided by 3; totals  |
|                        | over all time are not a rate and are left out); the most of    |
|                        | any of its packages                                            |
| archived_or_deprecated | `Project.archived` or any package `deprecated`                 |
| funding_gap            | 1 when the project has no funding channel and no active claim  |
|                        | by a maintainer with a payout channel; 0 otherwise; no data    |
|                        | while nothing at all is known about the project yet            |

The OpenSSF criticality inputs come from the repository's answer (GitHub), and only
when it answered; `dependents_count` is then the `dependents` signal's value:

| input                  | from                                                           |
|------------------------|----------------------------------------------------------------|
| created_since          | whole months since `created_at`                                |
| updated_since          | whole months since `pushed_at`                                 |
| contributor_count      | `contributors_count`                                           |
| org_count              | `org_count`                                                    |
| commit_frequency       | `commits_last_year` / 52 (commits a week)                      |
| recent_releases_count  | `releases_last_year`                                           |
| closed_issues_count    | `issues_closed_90d`                                            |
| updated_issues_count   | `issues_updated_90d`                                           |
| comment_frequency      | `comment_frequency`                                            |

The packages considered are the ones the company uses (its latest SBOMs), so
"advisories" are those of the packages it runs.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from service.projects import cache
from service.projects.inventory import CompanyInventory, company_inventory, latest_sbom_ids
from service.projects.links import REGISTRY_SOURCES
from service.projects.models import (
    ClaimStatus,
    FundingChannel,
    MetadataCacheEntry,
    PayoutChannel,
    Project,
    ProjectClaim,
    as_utc,
)
from service.risk.criticality import CRITICALITY_INPUT_NAMES
from service.risk.exposure import dependence
from service.sboms.models import Package, Product, Sbom

__all__ = ["SOURCE_LABELS", "ProjectInputs", "gather", "repo_cache_key"]

#: How sources are named to people (breakdown tables, sentences).
SOURCE_LABELS = {
    "pypi": "PyPI",
    "npm": "npm",
    "crates": "crates.io",
    "rubygems": "RubyGems",
    "maven": "Maven Central",
    "nuget": "NuGet",
    "go": "Go module proxy",
    "depsdev": "deps.dev",
    "ecosystems": "ecosyste.ms",
    "github": "GitHub",
}
SBOM_SOURCE = "SBOMs"
CLAIM_SOURCE = "maintainer claim"
DAYS_PER_MONTH = 365.25 / 12
CHUNK = 400
# Periods a download count may be given for, as a factor to a monthly figure.
PER_MONTH = {"last-month": 1.0, "month": 1.0, "30d": 1.0, "90d": 1 / 3, "last-week": 52 / 12}


def repo_cache_key(project: Project) -> str:
    """The metadata cache key resolution uses for a project's repository facts."""
    return f"pkg:github/{project.owner}/{project.name}"


@dataclass
class ProjectInputs:
    """Everything the score of one project for one company is computed from."""

    project_id: int
    key: str
    depths: dict[str, int | None]
    signals: dict[str, dict[str, Any]] = field(default_factory=dict)
    dependence: float = 0.0
    funded: bool = False


@dataclass(frozen=True)
class _Answer:
    """One cache row's metadata for one package."""

    source: str
    fetched_at: str | None
    data: dict[str, Any]


def _label(source: str) -> str:
    return SOURCE_LABELS.get(source, source)


def _iso(value: datetime | None) -> str | None:
    value = as_utc(value)
    return value.replace(microsecond=0).isoformat().replace("+00:00", "Z") if value else None


def _signal(value: Any, source: str | None, fetched_at: str | None) -> dict[str, Any]:
    return {"value": value, "source": source, "fetched_at": fetched_at}


def _count(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if not math.isfinite(value) or value < 0:
        return None
    return int(value)


def _scorecard(value: Any) -> int | float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return value if value == -1 or 0 <= value <= 10 else None


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return as_utc(parsed)


def gather(
    session: Session, company_id: int, now: datetime
) -> tuple[CompanyInventory, dict[int, ProjectInputs]]:
    """The company's inventory and the inputs of each of its projects."""
    inventory = company_inventory(session, company_id)
    if not inventory.projects:
        return inventory, {}
    project_ids = sorted(inventory.projects)
    package_ids = sorted({p for use in inventory.projects.values() for p in use.package_ids})

    packages, projects = _packages_and_projects(session, package_ids, project_ids)
    repo_keys = {pid: repo_cache_key(p) for pid, p in projects.items()}
    entries = cache.load_keys(
        session, [key for key, _ in packages.values()] + list(repo_keys.values())
    )
    channels = _funding_channels(session, project_ids)
    claims = _paid_claims(session, project_ids)
    sbom_dates = _sbom_dates(session, company_id)
    products_total = len(inventory.products)

    result: dict[int, ProjectInputs] = {}
    for project_id in project_ids:
        use = inventory.projects[project_id]
        project = projects.get(project_id)
        if project is None:
            continue
        inputs = ProjectInputs(project_id, use.key, dict(use.depths))
        inputs.dependence = dependence(use.depths.values())
        seen = _iso(max((sbom_dates[p] for p in use.depths if p in sbom_dates), default=None))
        signals = inputs.signals
        if products_total:
            signals["products_using"] = _signal(len(use.depths) / products_total, SBOM_SOURCE, seen)
        signals["direct"] = _signal(use.direct, SBOM_SOURCE, seen)

        answers = _answers([packages[p] for p in sorted(use.package_ids) if p in packages], entries)
        repo_entry = entries.get(("github", repo_keys[project_id]))
        repo = _answer(repo_entry)
        _package_signals(signals, answers, now)
        if repo is not None:
            _repository_signals(signals, repo, now)
        signals_archived = _archived(project, repo, answers)
        if signals_archived is not None:
            signals["archived_or_deprecated"] = signals_archived
        channel = channels.get(project_id)
        claim = claims.get(project_id)
        gap = _funding_gap(channel, claim, answers, repo)
        if gap is not None:
            signals["funding_gap"] = gap
        inputs.funded = channel is not None or claim is not None
        result[project_id] = inputs
    return inventory, result


def _packages_and_projects(
    session: Session, package_ids: list[int], project_ids: list[int]
) -> tuple[dict[int, tuple[str, str]], dict[int, Project]]:
    """{package id: (key, ecosystem)} and {project id: project}, read in chunks."""
    packages: dict[int, tuple[str, str]] = {}
    for chunk in _chunks(package_ids):
        rows = session.exec(
            select(Package.id, Package.key, Package.ecosystem).where(col(Package.id).in_(chunk))
        )
        packages.update({pid: (key, eco) for pid, key, eco in rows})
    projects: dict[int, Project] = {}
    for chunk in _chunks(project_ids):
        projects.update(
            {p.id: p for p in session.exec(select(Project).where(col(Project.id).in_(chunk)))}
        )
    return packages, projects


def _funding_gap(
    channel: tuple[str, datetime | None] | None,
    claim: datetime | None,
    answers: dict[str, dict[str, _Answer]],
    repo: _Answer | None,
) -> dict[str, Any] | None:
    """The funding_gap signal: no gap with a funding channel or a paid claim; a gap, saying
    where we looked and when, when the sources know the project but name no funding;
    unknown (None) when no source answered."""
    if channel is not None:
        return _signal(False, channel[0], _iso(channel[1]))
    if claim is not None:
        return _signal(False, CLAIM_SOURCE, _iso(claim))
    if not answers and repo is None:
        return None
    looked = [a for by_source in answers.values() for a in by_source.values()]
    looked += [repo] if repo else []
    consulted = sorted({_label(a.source) for a in looked})
    latest = max((a.fetched_at for a in looked if a.fetched_at), default=None)
    return _signal(True, ", ".join(consulted), latest)


# Package metadata --------------------------------------------------------------------------


def _answer(entry: MetadataCacheEntry | None) -> _Answer | None:
    if entry is None or not entry.data:
        return None
    return _Answer(entry.source, _iso(entry.fetched_at), entry.data)


def _answers(
    packages: list[tuple[str, str]], entries: dict[tuple[str, str], MetadataCacheEntry]
) -> dict[str, dict[str, _Answer]]:
    """{package key: {source: answer}} for the sources that answered about each package."""
    found: dict[str, dict[str, _Answer]] = {}
    for key, ecosystem in packages:
        by_source: dict[str, _Answer] = {}
        registry = REGISTRY_SOURCES.get(ecosystem)
        for source in (registry, "depsdev", "ecosystems"):
            if source is None:
                continue
            answer = _answer(entries.get((source, key)))
            if answer is not None:
                by_source[source] = answer
        if by_source:
            found[key] = by_source
    return found


def _registry_first(answers: dict[str, _Answer]) -> list[_Answer]:
    order = [s for s in answers if s not in ("ecosystems", "depsdev")]
    return [answers[s] for s in [*order, "ecosystems", "depsdev"] if s in answers]


def _depsdev_first(answers: dict[str, _Answer]) -> list[_Answer]:
    order = [s for s in answers if s not in ("ecosystems", "depsdev")]
    return [answers[s] for s in ["depsdev", "ecosystems", *order] if s in answers]


def _first(ordered: list[_Answer], read) -> tuple[Any, _Answer] | None:
    for answer in ordered:
        value = read(answer.data)
        if value is not None:
            return value, answer
    return None


def _monthly_downloads(data: dict[str, Any]) -> float | None:
    count = _count(data.get("downloads"))
    factor = PER_MONTH.get(str(data.get("downloads_period") or "").lower())
    if count is None or factor is None:
        return None
    return round(count * factor)


def _scorecard_field(name: str):
    def read(data: dict[str, Any]) -> float | None:
        card = data.get("scorecard")
        return _scorecard(card.get(name)) if isinstance(card, dict) else None

    return read


def _package_signals(
    signals: dict[str, dict[str, Any]], answers: dict[str, dict[str, _Answer]], now: datetime
) -> None:
    """Fill the signals read from package metadata, combining the project's packages."""

    def pick(ordering, read, combine):
        per_package = [_first(ordering(a), read) for a in answers.values()]
        found = [item for item in per_package if item is not None]
        return combine(found) if found else None

    def fewest(found):
        return min(found, key=lambda item: item[0])

    def most(found):
        return max(found, key=lambda item: item[0])

    chosen = pick(_registry_first, lambda d: _count(d.get("publishers_count")), fewest)
    if chosen:
        signals["publishers"] = _signal(chosen[0], _label(chosen[1].source), chosen[1].fetched_at)

    chosen = pick(_registry_first, lambda d: _parse_time(d.get("latest_release_at")), most)
    if chosen:
        signals["months_since_release"] = _signal(
            _months(chosen[0], now), _label(chosen[1].source), chosen[1].fetched_at
        )

    for signal, name in (("scorecard_maintained", "maintained"), ("scorecard_score", "overall")):
        chosen = pick(_depsdev_first, _scorecard_field(name), lambda found: found[0])
        if chosen:
            signals[signal] = _signal(chosen[0], _label(chosen[1].source), chosen[1].fetched_at)

    per_package = [
        _first(_depsdev_first(a), lambda d: _count(d.get("advisories"))) for a in answers.values()
    ]
    found = [item for item in per_package if item is not None]
    if found:
        sources = sorted({_label(a.source) for _, a in found})
        fetched = max((a.fetched_at for _, a in found if a.fetched_at), default=None)
        signals["advisories"] = _signal(sum(v for v, _ in found), ", ".join(sources), fetched)

    chosen = pick(_depsdev_first, lambda d: _count(d.get("dependents")), most)
    if chosen:
        signals["dependents"] = _signal(chosen[0], _label(chosen[1].source), chosen[1].fetched_at)

    chosen = pick(_registry_first, _monthly_downloads, most)
    if chosen:
        signals["downloads"] = _signal(chosen[0], _label(chosen[1].source), chosen[1].fetched_at)


def _months(since: datetime | None, now: datetime) -> int | None:
    return None if since is None else max(0, math.floor((now - since).days / DAYS_PER_MONTH))


def _rate(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) and value >= 0 else None


def _repository_signals(signals: dict[str, dict[str, Any]], repo: _Answer, now: datetime) -> None:
    """Active contributors and the OpenSSF criticality inputs from the repository's answer."""
    data = repo.data
    commits = _count(data.get("commits_last_year"))
    values = {
        "active_contributors": _count(data.get("active_contributors")),
        "created_since": _months(_parse_time(data.get("created_at")), now),
        "updated_since": _months(_parse_time(data.get("pushed_at")), now),
        "contributor_count": _count(data.get("contributors_count")),
        "org_count": _count(data.get("org_count")),
        "commit_frequency": None if commits is None else round(commits / 52, 2),
        "recent_releases_count": _count(data.get("releases_last_year")),
        "closed_issues_count": _count(data.get("issues_closed_90d")),
        "updated_issues_count": _count(data.get("issues_updated_90d")),
        "comment_frequency": _rate(data.get("comment_frequency")),
    }
    if values["active_contributors"] is None:
        values["active_contributors"] = values["contributor_count"]
    for name, value in values.items():
        if value is not None:
            signals[name] = _signal(value, _label("github"), repo.fetched_at)
    # Dependents alone say nothing of the repository's activity: criticality needs both.
    activity = any(values[n] is not None for n in CRITICALITY_INPUT_NAMES if n in values)
    if activity and "dependents" in signals:
        signals["dependents_count"] = dict(signals["dependents"])


def _archived(
    project: Project, repo: _Answer | None, answers: dict[str, dict[str, _Answer]]
) -> dict[str, Any] | None:
    repo_source = _label("github") if repo else "repository"
    repo_fetched = repo.fetched_at if repo else _iso(project.repo_checked_at)
    if project.archived:
        return _signal(True, repo_source, repo_fetched)
    deprecated = [
        (answer, answer.data.get("deprecated"))
        for by_source in answers.values()
        for answer in _registry_first(by_source)
        if isinstance(answer.data.get("deprecated"), bool)
    ]
    for answer, flag in deprecated:
        if flag:
            return _signal(True, _label(answer.source), answer.fetched_at)
    if project.archived is False:
        return _signal(False, repo_source, repo_fetched)
    if deprecated:
        answer = deprecated[0][0]
        return _signal(False, _label(answer.source), answer.fetched_at)
    return None


# Funding ------------------------------------------------------------------------------------


def _funding_channels(
    session: Session, project_ids: list[int]
) -> dict[int, tuple[str, datetime | None]]:
    """{project id: (source, found at)} of the first channel found for each project."""
    found: dict[int, tuple[str, datetime | None]] = {}
    for chunk in _chunks(project_ids):
        rows = session.exec(
            select(FundingChannel.project_id, FundingChannel.source, FundingChannel.found_at)
            .where(col(FundingChannel.project_id).in_(chunk))
            .order_by(col(FundingChannel.found_at), col(FundingChannel.id))
        )
        for project_id, source, found_at in rows:
            found.setdefault(project_id, (source, found_at))
    return found


def _paid_claims(session: Session, project_ids: list[int]) -> dict[int, datetime]:
    """{project id: verified at} for projects with an active claim by someone who can be paid."""
    found: dict[int, datetime] = {}
    for chunk in _chunks(project_ids):
        rows = session.exec(
            select(ProjectClaim.project_id, func.max(ProjectClaim.verified_at))
            .join(PayoutChannel, col(PayoutChannel.user_id) == ProjectClaim.user_id)
            .where(
                col(ProjectClaim.project_id).in_(chunk),
                ProjectClaim.status == ClaimStatus.active.value,
            )
            .group_by(col(ProjectClaim.project_id))
        )
        found.update(dict(rows.all()))
    return found


def _sbom_dates(session: Session, company_id: int) -> dict[str, datetime]:
    """{product name: when its latest SBOM was uploaded}."""
    rows = session.exec(
        select(Product.name, Sbom.created_at)
        .join(Sbom, col(Sbom.product_id) == Product.id)
        .where(col(Sbom.id).in_(latest_sbom_ids(company_id)))
    )
    return {name: created for name, created in rows}
