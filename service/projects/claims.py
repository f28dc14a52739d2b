"""Maintainers claim their projects and agree how to share (where each is paid:
``service.projects.payouts``).

Evidence for a claim, strongest first:

* ``admin`` / ``maintain`` — GitHub says so: ``GET /repos/{owner}/{name}`` with the
  person's own token answers ``permissions.admin`` or ``permissions.maintain``;
* ``funding_yml`` — the repository's ``FUNDING.yml`` (as last read by resolution) names
  the person's login under ``github:``.

Claims are re-checked by the ``projects.recheck_claims`` periodic job.  A claim whose
evidence is gone lapses and its owner gets a notification, shown once on their next page
view.  The job uses the token kept (encrypted) from the person's last sign-in; without
one it cannot ask GitHub, so a permission claim that could not be re-checked for
``claim_recheck_grace_days`` lapses too, asking the person to sign in again.

Several people may claim one project; they are co-maintainers.  By default they share
equally; a different split is a proposal that every current co-maintainer must accept,
and until then the previous split (or the equal one) stays in force.  Shares are basis
points (1/100 of a percent) that add up to 10,000.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from service.accounts.github import GitHubAPI, GitHubError
from service.accounts.models import User
from service.audit.services import Actor, record
from service.core.clock import utcnow
from service.notifications import services as notifications
from service.projects.models import (
    ClaimStatus,
    FundingChannel,
    Maintainer,
    Project,
    ProjectClaim,
    SplitProposal,
    as_utc,
)

LOGIN_PATTERN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,37}[A-Za-z0-9])?$")
FULL = 10_000  # basis points in 100 %
EVIDENCE_LABELS = {
    "admin": "GitHub says you are an admin of the repository",
    "maintain": "GitHub says you have the maintain role on the repository",
    "funding_yml": "the repository's FUNDING.yml lists your GitHub login",
}
MAX_CANDIDATES = 100


class ClaimError(ValueError):
    """A claim, split or payout change that cannot be made; the message says why."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


# Evidence ----------------------------------------------------------------------------------


def funding_yml_lists(session: Session, project: Project, login: str) -> bool:
    """Whether the project's FUNDING.yml (as last read) names this GitHub login."""
    return (
        session.exec(
            select(FundingChannel.id).where(
                FundingChannel.project_id == project.id,
                FundingChannel.source == "FUNDING.yml",
                FundingChannel.kind == "github_sponsors",
                func.lower(FundingChannel.handle) == login.lower(),
            )
        ).first()
        is not None
    )


def check_evidence(
    session: Session,
    project: Project,
    user: User,
    *,
    github: GitHubAPI,
    token: str | None,
    now: datetime,
) -> tuple[str, dict[str, Any]] | None:
    """(evidence, details) when GitHub or FUNDING.yml backs the claim, else None.

    Raises GitHubError when GitHub could not answer (the caller decides what that means).
    """
    if token:
        repo = github.repo(token, project.owner, project.name)
        permissions = (repo or {}).get("permissions") or {}
        for level in ("admin", "maintain"):
            if permissions.get(level) is True:
                return level, {
                    "check": f"GET /repos/{project.owner}/{project.name}",
                    "permissions": {k: bool(v) for k, v in permissions.items()},
                    "checked_at": now.isoformat(),
                }
    if funding_yml_lists(session, project, user.login):
        return "funding_yml", {
            "check": "FUNDING.yml lists the login",
            "login": user.login,
            "checked_at": now.isoformat(),
        }
    return None


# Claims ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    project: Project
    reasons: tuple[str, ...]
    claim: ProjectClaim | None


def my_claims(session: Session, user: User) -> list[tuple[ProjectClaim, Project]]:
    rows = session.exec(
        select(ProjectClaim, Project)
        .join(Project, col(Project.id) == ProjectClaim.project_id)
        .where(ProjectClaim.user_id == user.id)
        .order_by(col(ProjectClaim.status), col(Project.key))
    ).all()
    return [(c, p) for c, p in rows]


def maintained_repos(github: GitHubAPI, token: str | None) -> list[str]:
    """ "owner/name" of repositories GitHub says the token's person administers or maintains.

    GitHub being unreachable only shortens the list; claiming by URL still works.
    """
    if token is None:
        return []
    try:
        repos = github.user_repos(token)
    except GitHubError:
        return []
    return [
        repo["full_name"]
        for repo in repos
        if isinstance(repo.get("full_name"), str)
        and any((repo.get("permissions") or {}).get(level) for level in ("admin", "maintain"))
    ]


def candidates(
    session: Session, user: User, github_host: str, maintained: Iterable[str] = ()
) -> list[Candidate]:
    """Tributary projects this person may maintain: repositories GitHub says they administer
    or maintain (`maintained`, "owner/name"), theirs by owner, FUNDING.yml or history."""
    login = user.login.lower()
    reasons: dict[int, list[str]] = {}
    projects: dict[int, Project] = {}

    def add(project: Project, reason: str) -> None:
        projects[project.id] = project
        if reason not in reasons.setdefault(project.id, []):
            reasons[project.id].append(reason)

    keys = [f"{github_host}/{full_name.lower()}" for full_name in maintained]
    for project in session.exec(
        select(Project).where(col(Project.key).in_(keys)).limit(MAX_CANDIDATES)
    ):
        add(project, "GitHub says you can administer or maintain it")
    for project in session.exec(
        select(Project)
        .where(func.lower(Project.owner) == login, Project.host == github_host)
        .limit(MAX_CANDIDATES)
    ):
        add(project, "the repository belongs to your account")
    for project in session.exec(
        select(Project)
        .join(FundingChannel, col(FundingChannel.project_id) == Project.id)
        .where(
            FundingChannel.source == "FUNDING.yml",
            FundingChannel.kind == "github_sponsors",
            func.lower(FundingChannel.handle) == login,
        )
        .limit(MAX_CANDIDATES)
    ):
        add(project, "its FUNDING.yml lists you")
    for project in session.exec(
        select(Project)
        .join(Maintainer, col(Maintainer.project_id) == Project.id)
        .where(Maintainer.source == "github", func.lower(Maintainer.login) == login)
        .limit(MAX_CANDIDATES)
    ):
        add(project, "GitHub lists you among its top contributors")
    claims = {
        c.project_id: c
        for c, _p in my_claims(session, user)
        if c.status == ClaimStatus.active.value
    }
    return [
        Candidate(projects[pid], tuple(reasons[pid]), claims.get(pid))
        for pid in sorted(projects, key=lambda i: projects[i].key)
    ]


def active_claim(session: Session, project: Project, user: User) -> ProjectClaim | None:
    return session.exec(
        select(ProjectClaim).where(
            ProjectClaim.project_id == project.id,
            ProjectClaim.user_id == user.id,
            ProjectClaim.status == ClaimStatus.active.value,
        )
    ).first()


def claim(
    session: Session,
    actor: Actor,
    user: User,
    project: Project,
    *,
    github: GitHubAPI,
    token: str | None,
    github_host: str,
    now: datetime | None = None,
) -> ProjectClaim:
    """Claim a project on the strength of what GitHub says; stores the evidence."""
    now = now or utcnow()
    if project.host != github_host:
        raise ClaimError(
            f"{project.key} is not on {github_host}; only GitHub repositories can be claimed."
        )
    if active_claim(session, project, user) is not None:
        raise ClaimError(f"You have already claimed {project.key}.")
    try:
        found = check_evidence(session, project, user, github=github, token=token, now=now)
    except GitHubError as exc:
        raise ClaimError(f"Could not check with GitHub ({exc.reason}); try again later.") from None
    if found is None:
        hint = "" if token else " Sign in with GitHub again so we can ask GitHub about it."
        raise ClaimError(
            f"GitHub does not show you with admin or maintain permission on {project.key}, "
            f"and its FUNDING.yml does not list {user.login}.{hint}"
        )
    evidence, detail = found
    created = ProjectClaim(
        project_id=project.id,
        user_id=user.id,
        evidence=evidence,
        evidence_detail=detail,
        claimed_at=now,
        verified_at=now,
    )
    session.add(created)
    session.flush()
    _supersede_pending(session, project.id, now)
    record(session, actor, "project.claimed", obj=created, project=project.key, evidence=evidence)
    return created


def release(
    session: Session, actor: Actor, user: User, claim_id: int, now: datetime | None = None
) -> ProjectClaim:
    found = session.get(ProjectClaim, claim_id)
    if found is None or found.user_id != user.id or found.status != ClaimStatus.active.value:
        raise ClaimError("No such active claim.")
    _end(session, found, ClaimStatus.released, "released by the maintainer", now or utcnow())
    project = session.get(Project, found.project_id)
    record(session, actor, "project.claim_released", obj=found, project=project.key)
    return found


def _end(
    session: Session, found: ProjectClaim, status: ClaimStatus, reason: str, now: datetime
) -> None:
    found.status = status.value
    found.ended_at = now
    found.end_reason = reason[:500]
    session.add(found)
    session.flush()
    _supersede_pending(session, found.project_id, now)


def active_claims(session: Session, project: Project) -> list[tuple[ProjectClaim, User]]:
    rows = session.exec(
        select(ProjectClaim, User)
        .join(User, col(User.id) == ProjectClaim.user_id)
        .where(
            ProjectClaim.project_id == project.id,
            ProjectClaim.status == ClaimStatus.active.value,
        )
        .order_by(col(User.id))
    ).all()
    return [(c, u) for c, u in rows]


# Re-checking --------------------------------------------------------------------------------


@dataclass
class RecheckReport:
    checked: int = 0
    kept: int = 0
    lapsed: int = 0
    unchecked: int = 0


def recheck_claims(
    session: Session,
    *,
    github: GitHubAPI,
    token_for,
    now: datetime,
    grace: timedelta,
) -> RecheckReport:
    """Re-check every active claim; lapse those whose evidence is gone (with a notice)."""
    report = RecheckReport()
    rows = session.exec(
        select(ProjectClaim, Project, User)
        .join(Project, col(Project.id) == ProjectClaim.project_id)
        .join(User, col(User.id) == ProjectClaim.user_id)
        .where(ProjectClaim.status == ClaimStatus.active.value)
        .order_by(col(ProjectClaim.id))
    ).all()
    for found, project, user in rows:
        report.checked += 1
        token = token_for(user)
        if found.evidence in ("admin", "maintain") and not token:
            verified = as_utc(found.verified_at)
            if verified is not None and now - verified <= grace:
                report.unchecked += 1
                continue
            _lapse(
                session,
                found,
                project,
                user,
                now,
                f"it could not be re-checked with GitHub for {grace.days} days; "
                "sign in with GitHub and claim it again",
            )
            report.lapsed += 1
            continue
        try:
            evidence = check_evidence(session, project, user, github=github, token=token, now=now)
        except GitHubError:
            report.unchecked += 1  # GitHub is down: no verdict, try again next time
            continue
        if evidence is None:
            _lapse(
                session,
                found,
                project,
                user,
                now,
                f"GitHub no longer shows you with admin or maintain permission on {project.key} "
                "and its FUNDING.yml no longer lists you",
            )
            report.lapsed += 1
            continue
        found.evidence, found.evidence_detail = evidence
        found.verified_at = now
        session.add(found)
        report.kept += 1
    return report


def _lapse(
    session: Session,
    found: ProjectClaim,
    project: Project,
    user: User,
    now: datetime,
    reason: str,
) -> None:
    _end(session, found, ClaimStatus.lapsed, reason, now)
    notify(session, user.id, "claim_lapsed", f"Your claim on {project.key} lapsed: {reason}.", now)
    record(
        session,
        Actor.system("scheduler"),
        "project.claim_lapsed",
        obj=found,
        project=project.key,
        user_id=user.id,
        reason=reason,
    )


# Notifications -----------------------------------------------------------------------------


def notify(session: Session, user_id: int, kind: str, message: str, now: datetime) -> None:
    """An in-app notice (the notifications domain's), shown once on the next page view."""
    notifications.notify(session, [user_id], kind, message, now=now)


def take_unread(session: Session, user_id: int, now: datetime | None = None) -> list[str]:
    """Unread notices of a person, marked read (they are shown once)."""
    return [n.message for n in notifications.take_unread(session, user_id, now)]


# Splits ------------------------------------------------------------------------------------


def equal_split(user_ids: list[int]) -> dict[int, int]:
    """10,000 basis points shared equally; the remainder goes to the lowest ids, one each."""
    ids = sorted(user_ids)
    if not ids:
        return {}
    base, extra = divmod(FULL, len(ids))
    return {uid: base + (1 if index < extra else 0) for index, uid in enumerate(ids)}


@dataclass(frozen=True)
class Split:
    shares: dict[int, int]  # user id → basis points
    agreed: SplitProposal | None  # None: the default equal split
    pending: SplitProposal | None


def current_split(session: Session, project: Project) -> Split:
    members = [u.id for _c, u in active_claims(session, project)]
    proposals = session.exec(
        select(SplitProposal)
        .where(
            SplitProposal.project_id == project.id,
            col(SplitProposal.status).in_(["agreed", "pending"]),
        )
        .order_by(col(SplitProposal.id).desc())
    ).all()
    agreed = next(
        (
            p
            for p in proposals
            if p.status == "agreed" and {int(k) for k in p.shares} == set(members)
        ),
        None,
    )
    pending = next((p for p in proposals if p.status == "pending"), None)
    shares = {int(k): v for k, v in agreed.shares.items()} if agreed else equal_split(members)
    return Split(shares, agreed, pending)


def parse_percent(text: str) -> int:
    """'33.33' → 3333 basis points; ClaimError for anything else."""
    try:
        value = Decimal(str(text).strip().rstrip("%") or "0")
    except InvalidOperation:
        raise ClaimError(f"{text!r} is not a percentage.") from None
    points = value * 100
    if points != points.to_integral_value() or not 0 <= points <= FULL:
        raise ClaimError(f"{text!r} must be between 0 and 100 with at most two decimals.")
    return int(points)


def propose_split(
    session: Session,
    actor: Actor,
    user: User,
    project: Project,
    shares: dict[int, int],
    now: datetime | None = None,
) -> SplitProposal:
    """Propose a split; it holds once every current co-maintainer has accepted it."""
    now = now or utcnow()
    members = {u.id for _c, u in active_claims(session, project)}
    if user.id not in members:
        raise ClaimError("Only a co-maintainer of the project can propose a split.")
    if set(shares) != members:
        raise ClaimError("Give a share for every current co-maintainer, and for no one else.")
    if sum(shares.values()) != FULL:
        total = Decimal(sum(shares.values())) / 100
        raise ClaimError(f"The shares add up to {total}%; they must add up to 100%.")
    _supersede_pending(session, project.id, now)
    proposal = SplitProposal(
        project_id=project.id,
        proposed_by_id=user.id,
        shares={str(k): v for k, v in sorted(shares.items())},
        accepted_by=[user.id],
        created_at=now,
    )
    session.add(proposal)
    session.flush()
    _agree_if_complete(session, proposal, members, now)
    record(
        session, actor, "project.split_proposed", obj=proposal, project=project.key, shares=shares
    )
    return proposal


def accept_split(
    session: Session,
    actor: Actor,
    user: User,
    project: Project,
    proposal_id: int,
    now: datetime | None = None,
) -> SplitProposal:
    now = now or utcnow()
    proposal = session.get(SplitProposal, proposal_id)
    if proposal is None or proposal.project_id != project.id or proposal.status != "pending":
        raise ClaimError("No such pending split proposal.")
    members = {u.id for _c, u in active_claims(session, project)}
    if user.id not in members or str(user.id) not in proposal.shares:
        raise ClaimError("Only a co-maintainer named in the proposal can accept it.")
    if user.id not in proposal.accepted_by:
        proposal.accepted_by = [*proposal.accepted_by, user.id]
    session.add(proposal)
    _agree_if_complete(session, proposal, members, now)
    record(session, actor, "project.split_accepted", obj=proposal, project=project.key)
    return proposal


def _agree_if_complete(
    session: Session, proposal: SplitProposal, members: set[int], now: datetime
) -> None:
    if not members <= set(proposal.accepted_by):
        return
    for earlier in session.exec(
        select(SplitProposal).where(
            SplitProposal.project_id == proposal.project_id,
            SplitProposal.status == "agreed",
            SplitProposal.id != proposal.id,
        )
    ):
        earlier.status = "superseded"
        session.add(earlier)
    proposal.status = "agreed"
    proposal.decided_at = now
    session.add(proposal)


def _supersede_pending(session: Session, project_id: int, now: datetime) -> None:
    """A pending proposal ends when a new one is made or the co-maintainers change."""
    for pending in session.exec(
        select(SplitProposal).where(
            SplitProposal.project_id == project_id, SplitProposal.status == "pending"
        )
    ):
        pending.status = "superseded"
        pending.decided_at = now
        session.add(pending)
