"""Import the GitHub dependency graph of every repository of a linked organisation.

Each repository becomes a product named after it, with GitHub's SPDX export as its SBOM.
This is batch work, so unlike the other services it commits: each repository in its own
transaction, so one that fails stores nothing and does not undo the ones before it. It
runs inside the request for now; a later issue moves long work to the scheduler's queue.

The user's GitHub token is passed in by the caller and only ever handed to the GitHub
client: it never appears in the report, the audit trail or a log line.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, select

from service.accounts.github import GitHubAPI, GitHubError
from service.audit.services import Actor, record
from service.companies.models import Company, LinkedOrg
from service.sboms.parsing import ParseLimits, SbomError
from service.sboms.services import ingest

logger = logging.getLogger(__name__)


class GitHubImportError(ValueError):
    """The import cannot start; the message says why and what to do."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class RepoOutcome:
    repo: str  # owner/name
    product: str
    status: str  # "imported" | "unchanged" | "failed"
    product_id: int | None = None
    sbom_id: int | None = None
    summary: dict[str, Any] | None = None
    diff: dict[str, Any] | None = None
    error: str | None = None
    error_code: str | None = None


@dataclass
class ImportReport:
    org: str
    outcomes: list[RepoOutcome] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for outcome in self.outcomes if outcome.status == status)


def import_org(
    session: Session,
    actor: Actor,
    company: Company,
    org: str,
    *,
    github: GitHubAPI,
    token: str | None,
    limits: ParseLimits | None = None,
) -> ImportReport:
    """Import every repository's dependency graph; commits per repository (see module)."""
    org = org.strip().lower()
    linked = session.exec(
        select(LinkedOrg).where(LinkedOrg.company_id == company.id, LinkedOrg.org_login == org)
    ).first()
    if linked is None:
        raise GitHubImportError(f"{org} is not linked to {company.name}; link it first.")
    if not token:
        raise GitHubImportError(
            "Sign in with GitHub again: Tributary needs your GitHub token to read the "
            "dependency graphs."
        )
    try:
        repos = github.org_repos(token, org)
    except GitHubError as exc:
        raise GitHubImportError(
            f"Could not list the repositories of {org}: {exc.reason}."
        ) from None

    report = ImportReport(org=org)
    for repo in repos:
        report.outcomes.append(
            _import_repo(session, actor, company, org, repo, github, token, limits)
        )
    record(
        session,
        actor,
        "github.imported",
        company_id=company.id,
        org=org,
        repositories=len(report.outcomes),
        imported=report.count("imported"),
        unchanged=report.count("unchanged"),
        failed=report.count("failed"),
    )
    session.commit()
    return report


def _import_repo(
    session: Session,
    actor: Actor,
    company: Company,
    org: str,
    repo: dict[str, Any],
    github: GitHubAPI,
    token: str,
    limits: ParseLimits | None,
) -> RepoOutcome:
    name = str(repo["name"])
    owner = str((repo.get("owner") or {}).get("login") or org)
    full_name = str(repo.get("full_name") or f"{owner}/{name}")
    outcome = RepoOutcome(repo=full_name, product=name, status="failed")
    try:
        data = github.dependency_graph_sbom(token, owner, name)
    except GitHubError as exc:
        outcome.error, outcome.error_code = exc.reason, "github_error"
        return outcome
    try:
        result = ingest(
            session,
            actor,
            company,
            name,
            data,
            source="github",
            filename=f"{full_name} dependency graph",
            limits=limits,
        )
        session.commit()
    except SbomError as exc:
        session.rollback()
        outcome.error, outcome.error_code = exc.message, exc.code
        return outcome
    except Exception:
        # One repository's surprise must not lose the others; the trace goes to the log
        # (it holds the repository name, never the token).
        session.rollback()
        logger.exception("GitHub import of %s failed", full_name)
        outcome.error, outcome.error_code = "an internal error occurred", "internal_error"
        return outcome
    outcome.status = "imported" if result.created else "unchanged"
    outcome.product_id = result.product.id
    outcome.sbom_id = result.sbom.id
    outcome.summary, outcome.diff = result.summary, result.diff
    return outcome
