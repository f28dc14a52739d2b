"""Builders for the allocation service tests: SBOMs through the real ingest, then projects,
resolutions, claims, funding channels and risk snapshots as the other domains write them.

The `acme` scenario (budget 1,000.00 USD):

- products ``web`` (left-pad and framework direct, tiny under framework), ``api``
  (left-pad and own-lib direct), ``worker`` (one package nobody resolved);
- github.com/left/pad: a funding channel (claimed), risk 80 (an older snapshot said 10);
- github.com/fw/framework: an active maintainer claim, risk 40;
- github.com/tiny/tiny: nothing (unclaimed, so held), no risk score;
- github.com/ACME/own-lib: owned by the company's linked organisation (first-party).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import update
from sqlmodel import Session, select

from service.accounts.models import User
from service.allocation.policy_store import save_policy
from service.audit.services import Actor
from service.companies.models import Company, Role
from service.jobs.models import Task, TaskStatus
from service.projects.models import FundingChannel, PackageResolution, Project
from service.sboms.models import Package
from service.sboms.services import ingest
from tests.factories import (
    make_company,
    make_funding_channel,
    make_linked_org,
    make_package_resolution,
    make_project,
    make_project_claim,
    make_risk_snapshot,
    make_user,
)

ACTOR = Actor.system("test")
WHEN = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def cyclonedx(name: str, direct: list[str], edges: dict[str, list[str]] | None = None) -> bytes:
    """A CycloneDX 1.5 document: the root depends on `direct`; `edges` add deeper levels."""
    edges = edges or {}
    purls = list(dict.fromkeys([*direct, *edges, *(c for cs in edges.values() for c in cs)]))
    ref = {purl: f"c{i}" for i, purl in enumerate(purls)}
    document = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "version": 1,
        "metadata": {"component": {"type": "application", "name": name, "bom-ref": "root"}},
        "components": [
            {
                "type": "library",
                "bom-ref": ref[purl],
                "name": purl.rsplit("/", 1)[-1],
                "version": "1.0.0",
                "purl": f"{purl}@1.0.0",
            }
            for purl in purls
        ],
        "dependencies": [{"ref": "root", "dependsOn": [ref[p] for p in direct]}]
        + [{"ref": ref[p], "dependsOn": [ref[c] for c in edges.get(p, [])]} for p in purls],
    }
    return json.dumps(document).encode()


def upload(session: Session, company: Company, product: str, direct, edges=None) -> None:
    ingest(session, ACTOR, company, product, cyclonedx(product, direct, edges), source="cli")
    session.commit()


def resolve(session: Session, package_key: str, project: Project) -> None:
    package = session.exec(select(Package).where(Package.key == package_key)).one()
    make_package_resolution(session, package, project)


def funding(session: Session, project: Project) -> None:
    make_funding_channel(session, project, handle="left")


def claim(session: Session, project: Project, user: User) -> None:
    make_project_claim(session, project, user)


def risk(session: Session, company: Company, project: Project, score: float, day: date) -> None:
    make_risk_snapshot(
        session,
        company,
        project,
        taken_on=day,
        score=score,
        coverage=0.8,
        breakdown=[
            {"signal": "publishers", "contribution": score / 2},
            {"signal": "bus_factor", "contribution": score / 4},
            {"signal": "advisories", "contribution": score / 8},
            {"signal": "downloads", "contribution": score / 16},
        ],
        inputs_digest="x" * 64,
    )


@dataclass
class Acme:
    company: Company
    owner: User
    reviewer: User
    viewer: User
    maintainer: User
    projects: dict[str, Project]


def acme(session: Session, slug: str | None = None, budget: int = 100_000) -> Acme:
    owner = make_user(session, email="owner@acme.test")
    reviewer = make_user(session, email="reviewer@acme.test")
    viewer = make_user(session, email="viewer@acme.test")
    maintainer = make_user(session)
    company = make_company(
        session,
        slug,
        members=[(owner, Role.owner), (reviewer, Role.reviewer), (viewer, Role.viewer)],
        monthly_budget_minor=budget,
    )
    make_linked_org(session, company, org_login="acme")
    upload(
        session,
        company,
        "web",
        ["pkg:npm/left-pad", "pkg:pypi/framework"],
        {"pkg:pypi/framework": ["pkg:pypi/tiny"]},
    )
    upload(session, company, "api", ["pkg:npm/left-pad", "pkg:npm/own-lib"])
    upload(session, company, "worker", ["pkg:npm/unknown-thing"])
    projects = {}
    for name, key, package in (
        ("left", "github.com/left/pad", "pkg:npm/left-pad"),
        ("framework", "github.com/fw/framework", "pkg:pypi/framework"),
        ("tiny", "github.com/tiny/tiny", "pkg:pypi/tiny"),
        ("own", "github.com/ACME/own-lib", "pkg:npm/own-lib"),
    ):
        existing = session.exec(select(Project).where(Project.key == key)).first()
        projects[name] = existing or make_project(session, key)
        if not session.exec(
            select(PackageResolution)
            .join(Package, Package.id == PackageResolution.package_id)
            .where(Package.key == package)
        ).first():
            resolve(session, package, projects[name])
    if not session.exec(
        select(FundingChannel).where(FundingChannel.project_id == projects["left"].id)
    ).first():
        funding(session, projects["left"])
    claim(session, projects["framework"], maintainer)
    risk(session, company, projects["left"], 10.0, date(2026, 10, 1))
    risk(session, company, projects["left"], 80.0, date(2026, 11, 1))
    risk(session, company, projects["framework"], 40.0, date(2026, 11, 1))
    return Acme(company, owner, reviewer, viewer, maintainer, projects)


WEBHOOK_SECRET = "whsec-0123456789abcdef"


def acme_notifying(session: Session, seal: Callable[[str], str]) -> Acme:
    """`acme` whose policy asks for e-mail and a webhook, with its queue emptied so only
    the notices a test causes are left to run."""
    found = acme(session)
    save_policy(
        session,
        Actor(user_id=found.owner.id),
        found.company,
        {"cap": "1"},
        four_eyes=False,
        notify_email=True,
        webhook_url="https://hooks.example.com/tributary",
        webhook_secret=WEBHOOK_SECRET,
        seal=seal,
    )
    session.commit()
    session.exec(update(Task).values(status=TaskStatus.done))
    session.commit()
    return found
