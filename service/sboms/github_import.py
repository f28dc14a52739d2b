"""Import the GitHub dependency graph of every repository of a linked organisation.

Each repository becomes a product named after it, with GitHub's SPDX export as its SBOM.
The import runs in the task queue (`sboms.github_import`): the page queues it and then
follows its progress, stored on a GitHubImport row as each repository is done. It is
batch work, so unlike the other services it commits: each repository in its own
transaction, so one that fails stores nothing and does not undo the ones before it. A
task retried after a lost worker resumes: repositories already recorded are skipped (and
an upload repeated by the retry stores nothing new).

The user's GitHub token is read from their account when the task runs and only ever
handed to the GitHub client: it never appears in the task, the report, the audit trail
or a log line.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Any

from sqlmodel import Session, col, select

from service.accounts.github import GitHubAPI, GitHubError
from service.audit.services import Actor, record
from service.companies.models import Company, LinkedOrg
from service.core.clock import utcnow
from service.jobs.queue import enqueue
from service.sboms.models import GitHubImport
from service.sboms.parsing import ParseLimits, SbomError
from service.sboms.services import ingest

logger = logging.getLogger(__name__)
IMPORT_TASK = "sboms.github_import"
NO_TOKEN = (
    "Sign in with GitHub again: Tributary needs your GitHub token to read the dependency graphs."
)


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


def count(run: GitHubImport, status: str) -> int:
    return sum(1 for outcome in run.outcomes if outcome.get("status") == status)


def recent_imports(session: Session, company: Company, limit: int = 5) -> list[GitHubImport]:
    """The company's latest imports, newest first (the products page links to them)."""
    return list(
        session.exec(
            select(GitHubImport)
            .where(GitHubImport.company_id == company.id)
            .order_by(col(GitHubImport.id).desc())
            .limit(limit)
        )
    )


def start_import(
    session: Session, actor: Actor, company: Company, org: str, *, user_id: int, token: str | None
) -> GitHubImport:
    """Queue the import of `org` (in the caller's transaction); an import of it already
    queued or running is returned instead. GitHubImportError when it cannot start."""
    org = org.strip().lower()
    linked = session.exec(
        select(LinkedOrg).where(LinkedOrg.company_id == company.id, LinkedOrg.org_login == org)
    ).first()
    if linked is None:
        raise GitHubImportError(f"{org} is not linked to {company.name}; link it first.")
    if not token:
        raise GitHubImportError(NO_TOKEN)
    pending = session.exec(
        select(GitHubImport).where(
            GitHubImport.company_id == company.id,
            GitHubImport.org == org,
            col(GitHubImport.status).in_(("queued", "running")),
        )
    ).first()
    if pending is not None:
        return pending
    run = GitHubImport(company_id=company.id, org=org, requested_by_user_id=user_id)
    session.add(run)
    session.flush()
    enqueue(
        session,
        IMPORT_TASK,
        {"import_id": run.id},
        unique_key=f"github-import:{run.id}",
        company_id=company.id,
    )
    record(session, actor, "github.import_queued", company_id=company.id, obj=run, org=org)
    return run


def run_import(
    session: Session,
    run: GitHubImport,
    *,
    github: GitHubAPI,
    token: str | None,
    limits: ParseLimits | None = None,
) -> None:
    """Import every repository not recorded yet; commits per repository (see module)."""
    if run.status in ("done", "failed"):
        return
    company = session.get(Company, run.company_id)
    assert company is not None  # companies are never deleted
    actor = Actor(user_id=run.requested_by_user_id)
    if not token:
        _finish(session, run, "failed", NO_TOKEN)
        return
    try:
        repos = github.org_repos(token, run.org)
    except GitHubError as exc:
        _finish(
            session, run, "failed", f"Could not list the repositories of {run.org}: {exc.reason}."
        )
        return
    run.status, run.total = "running", len(repos)
    session.add(run)
    session.commit()
    done = {outcome["repo"] for outcome in run.outcomes}
    for repo in repos:
        if _full_name(repo, run.org) in done:
            continue
        outcome = _import_repo(session, actor, company, run.org, repo, github, token, limits)
        run.outcomes = [*run.outcomes, asdict(outcome)]  # a new list: JSON columns need one
        session.add(run)
        session.commit()
    record(
        session,
        actor,
        "github.imported",
        company_id=company.id,
        org=run.org,
        repositories=len(run.outcomes),
        imported=count(run, "imported"),
        unchanged=count(run, "unchanged"),
        failed=count(run, "failed"),
    )
    _finish(session, run, "done", None)


def _finish(session: Session, run: GitHubImport, status: str, error: str | None) -> None:
    run.status, run.error, run.finished_at = status, error, utcnow()
    session.add(run)
    session.commit()


def _full_name(repo: dict[str, Any], org: str) -> str:
    owner = str((repo.get("owner") or {}).get("login") or org)
    return str(repo.get("full_name") or f"{owner}/{repo['name']}")


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
    full_name = _full_name(repo, org)
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
