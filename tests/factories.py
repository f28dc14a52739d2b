"""Builders for test data: the smallest valid row of every model, with anything
overridable (``**fields``). A row's parents are given as objects; a missing one is built
too. Each builder commits (the test's outer transaction still rolls it all back)."""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any, TypeVar

from sqlmodel import Session, SQLModel

from service.accounts.models import User
from service.allocation.models import (
    Adjustment,
    AdjustmentKind,
    AllocationPolicy,
    LineKind,
    Proposal,
    ProposalLine,
)
from service.audit.models import Event
from service.companies.models import ApiToken, Company, Invitation, LinkedOrg, Membership, Role
from service.core.clock import utcnow
from service.core.models import OutboundPause, OutboundSlot, OutboundSpacing
from service.jobs.models import PeriodicRun, SchedulerLease, Task
from service.notifications.models import Notification
from service.pledges.models import (
    Payment,
    Pledge,
    PledgeExport,
    PledgeSettings,
    Receipt,
    ReceiptImport,
    ReceiptMapping,
)
from service.projects.models import (
    CompanyPackageLink,
    FetchLease,
    FundingChannel,
    Maintainer,
    MavenParentPom,
    MetadataCacheEntry,
    OutboundUsage,
    PackageRequests,
    PackageResolution,
    PayoutChannel,
    Project,
    ProjectClaim,
    SplitProposal,
)
from service.risk.models import CompanyExposureSnapshot, ProjectRisk, RiskSnapshot, RiskWeights
from service.sboms.models import (
    BomToken,
    GitHubImport,
    Package,
    Product,
    ProductVersion,
    Sbom,
    SbomComponent,
)

_ids = itertools.count(5000)
Row = TypeVar("Row", bound=SQLModel)
PERIOD = "2026-11"


def _saved(session: Session, row: Row) -> Row:
    session.add(row)
    session.commit()
    return row


def _row(session: Session, model: type[Row], fields: dict[str, Any], **defaults: Any) -> Row:
    """`model` from `defaults` with `fields` over them, saved."""
    return _saved(session, model(**{**defaults, **fields}))


# Accounts and companies ---------------------------------------------------------------------


def make_user(session: Session, login: str | None = None, **fields) -> User:
    number = next(_ids)
    return _row(session, User, fields, github_id=number, login=login or f"user{number}")


def make_company(
    session: Session,
    slug: str | None = None,
    *,
    members: list[tuple[User, Role]] | None = None,
    **fields,
) -> Company:
    number = next(_ids)
    company = _row(
        session,
        Company,
        fields,
        slug=slug or f"company{number}",
        name=f"Company {number}",
        currency="USD",
        monthly_budget_minor=100_000,
    )
    for user, role in members or []:
        make_membership(session, company, user, role=role)
    return company


def make_membership(
    session: Session, company: Company | None = None, user: User | None = None, **fields
) -> Membership:
    return _row(
        session,
        Membership,
        fields,
        company_id=(company or make_company(session)).id,
        user_id=(user or make_user(session)).id,
        role=Role.viewer,
    )


def make_invitation(session: Session, company: Company | None = None, **fields) -> Invitation:
    return _row(
        session,
        Invitation,
        fields,
        company_id=(company or make_company(session)).id,
        github_login=f"invitee{next(_ids)}",
    )


def make_linked_org(session: Session, company: Company | None = None, **fields) -> LinkedOrg:
    return _row(
        session,
        LinkedOrg,
        fields,
        company_id=(company or make_company(session)).id,
        org_login=f"org{next(_ids)}",
    )


def make_api_token(session: Session, company: Company | None = None, **fields) -> ApiToken:
    number = next(_ids)
    return _row(
        session,
        ApiToken,
        fields,
        company_id=(company or make_company(session)).id,
        name=f"token {number}",
        prefix=f"trb_{number}",
        token_hash=f"{number:064d}",
    )


def make_event(session: Session, action: str = "test.happened", **fields) -> Event:
    return _row(session, Event, fields, action=action)


# Background work and notices ----------------------------------------------------------------


def make_task(session: Session, kind: str = "test.record", **fields) -> Task:
    return _row(session, Task, fields, kind=kind)


def make_scheduler_lease(session: Session, **fields) -> SchedulerLease:
    return _row(
        session, SchedulerLease, fields, name="scheduler", holder="test", lease_until=utcnow()
    )


def make_periodic_run(session: Session, job_id: str = "test.job", **fields) -> PeriodicRun:
    return _row(session, PeriodicRun, fields, job_id=job_id, last_fire_at=utcnow())


def make_notification(session: Session, user: User | None = None, **fields) -> Notification:
    return _row(
        session,
        Notification,
        fields,
        user_id=(user or make_user(session)).id,
        kind="test",
        message="Something happened.",
    )


# Projects and resolution --------------------------------------------------------------------


def make_project(session: Session, key: str = "github.com/octo/widget", **fields) -> Project:
    """A project (a source repository) with its key split as resolution stores it."""
    host, owner, name = key.split("/")
    return _row(
        session,
        Project,
        fields,
        key=key,
        host=host,
        owner=owner,
        name=name,
        repository_url=f"https://{key}",
    )


def _another_project(session: Session) -> Project:
    return make_project(session, f"github.com/octo/widget{next(_ids)}")


def make_package(session: Session, key: str | None = None, **fields) -> Package:
    key = key or f"pkg:pypi/package{next(_ids)}"
    ecosystem, _, name = key.removeprefix("pkg:").partition("/")
    return _row(session, Package, fields, key=key, ecosystem=ecosystem, name=name)


def make_package_resolution(
    session: Session, package: Package | None = None, project: Project | None = None, **fields
) -> PackageResolution:
    return _row(
        session,
        PackageResolution,
        fields,
        package_id=(package or make_package(session)).id,
        project_id=(project or _another_project(session)).id,
        status="resolved",
        source="purl",
    )


def make_company_package_link(
    session: Session, company: Company | None = None, package: Package | None = None, **fields
) -> CompanyPackageLink:
    return _row(
        session,
        CompanyPackageLink,
        fields,
        company_id=(company or make_company(session)).id,
        package_id=(package or make_package(session)).id,
    )


def make_metadata_cache_entry(
    session: Session, source: str = "npm", key: str | None = None, **fields
) -> MetadataCacheEntry:
    key = key or f"pkg:{source}/package{next(_ids)}"
    return _row(session, MetadataCacheEntry, fields, source=source, key=key, status="ok")


def make_fetch_lease(session: Session, **fields) -> FetchLease:
    return _row(
        session,
        FetchLease,
        fields,
        source="npm",
        key=f"pkg:npm/package{next(_ids)}",
        holder="worker-1",
        until=1_800_000_000.0,
    )


def make_maven_parent_pom(session: Session, **fields) -> MavenParentPom:
    return _row(
        session,
        MavenParentPom,
        fields,
        coordinates=f"org.example:parent{next(_ids)}:1.0",
        pom=b"<project/>",
    )


def make_maintainer(session: Session, project: Project | None = None, **fields) -> Maintainer:
    return _row(
        session,
        Maintainer,
        fields,
        project_id=(project or _another_project(session)).id,
        source="github",
    )


def make_funding_channel(
    session: Session, project: Project | None = None, **fields
) -> FundingChannel:
    """A GitHub Sponsors listing found in the project's FUNDING.yml."""
    handle = fields.pop("handle", "someone")
    return _row(
        session,
        FundingChannel,
        fields,
        project_id=(project or _another_project(session)).id,
        kind="github_sponsors",
        handle=handle,
        url=f"https://github.com/sponsors/{handle}",
        source="FUNDING.yml",
    )


def make_project_claim(
    session: Session, project: Project | None = None, user: User | None = None, **fields
) -> ProjectClaim:
    return _row(
        session,
        ProjectClaim,
        fields,
        project_id=(project or _another_project(session)).id,
        user_id=(user or make_user(session)).id,
        evidence="admin",
    )


def make_split_proposal(
    session: Session, project: Project | None = None, by: User | None = None, **fields
) -> SplitProposal:
    return _row(
        session,
        SplitProposal,
        fields,
        project_id=(project or _another_project(session)).id,
        proposed_by_id=(by or make_user(session)).id,
    )


def make_payout_channel(session: Session, user: User | None = None, **fields) -> PayoutChannel:
    return _row(
        session,
        PayoutChannel,
        fields,
        user_id=(user or make_user(session)).id,
        kind="github_sponsors",
        value=f"maintainer{next(_ids)}",
    )


def make_outbound_usage(session: Session, source: str = "npm", **fields) -> OutboundUsage:
    return _row(session, OutboundUsage, fields, day=utcnow().date(), source=source)


def make_package_requests(session: Session, source: str = "npm", **fields) -> PackageRequests:
    return _row(
        session,
        PackageRequests,
        fields,
        month=utcnow().strftime("%Y-%m"),
        source=source,
        key=f"pkg:{source}/package{next(_ids)}",
    )


# SBOMs --------------------------------------------------------------------------------------


def make_product(session: Session, company: Company | None = None, **fields) -> Product:
    return _row(
        session,
        Product,
        fields,
        company_id=(company or make_company(session)).id,
        name=f"product{next(_ids)}",
    )


def make_product_version(
    session: Session, product: Product | None = None, **fields
) -> ProductVersion:
    product = product or make_product(session)
    return _row(
        session, ProductVersion, fields, product_id=product.id, company_id=product.company_id
    )


def make_sbom(session: Session, product: Product | None = None, **fields) -> Sbom:
    product = product or make_product(session)
    return _row(
        session,
        Sbom,
        fields,
        product_id=product.id,
        company_id=product.company_id,
        content_sha256=f"{next(_ids):064x}",
        format="cyclonedx",
        spec_version="1.5",
        encoding="json",
        source="cli",
    )


def make_sbom_component(session: Session, sbom: Sbom | None = None, **fields) -> SbomComponent:
    return _row(session, SbomComponent, fields, sbom_id=(sbom or make_sbom(session)).id)


def make_bom_token(session: Session, company: Company | None = None, **fields) -> BomToken:
    return _row(session, BomToken, fields, company_id=(company or make_company(session)).id)


def make_github_import(
    session: Session, company: Company | None = None, by: User | None = None, **fields
) -> GitHubImport:
    return _row(
        session,
        GitHubImport,
        fields,
        company_id=(company or make_company(session)).id,
        org=f"org{next(_ids)}",
        requested_by_user_id=(by or make_user(session)).id,
    )


# Risk ---------------------------------------------------------------------------------------


def make_risk_weights(session: Session, company: Company | None = None, **fields) -> RiskWeights:
    return _row(session, RiskWeights, fields, company_id=(company or make_company(session)).id)


def make_risk_snapshot(
    session: Session, company: Company | None = None, project: Project | None = None, **fields
) -> RiskSnapshot:
    return _row(
        session,
        RiskSnapshot,
        fields,
        company_id=(company or make_company(session)).id,
        project_id=(project or _another_project(session)).id,
        taken_on=utcnow().date(),
        inputs_digest="0" * 64,
    )


def make_project_risk(
    session: Session, company: Company | None = None, project: Project | None = None, **fields
) -> ProjectRisk:
    return _row(
        session,
        ProjectRisk,
        fields,
        company_id=(company or make_company(session)).id,
        project_id=(project or _another_project(session)).id,
        taken_on=utcnow().date(),
        inputs_digest="0" * 64,
    )


def make_company_exposure_snapshot(
    session: Session, company: Company | None = None, **fields
) -> CompanyExposureSnapshot:
    return _row(
        session,
        CompanyExposureSnapshot,
        fields,
        company_id=(company or make_company(session)).id,
        taken_on=utcnow().date(),
    )


# Allocation ---------------------------------------------------------------------------------


def make_allocation_policy(
    session: Session, company: Company | None = None, **fields
) -> AllocationPolicy:
    return _row(session, AllocationPolicy, fields, company_id=(company or make_company(session)).id)


def make_proposal(session: Session, company: Company | None = None, **fields) -> Proposal:
    company = company or make_company(session)
    return _row(
        session,
        Proposal,
        fields,
        company_id=company.id,
        period=PERIOD,
        currency=company.currency,
        budget_minor=company.monthly_budget_minor,
    )


def make_proposal_line(
    session: Session, proposal: Proposal | None = None, project: Project | None = None, **fields
) -> ProposalLine:
    project = project or _another_project(session)
    return _row(
        session,
        ProposalLine,
        fields,
        proposal_id=(proposal or make_proposal(session)).id,
        project_id=project.id,
        project_key=project.key,
        kind=LineKind.line.value,
    )


def make_adjustment(
    session: Session, proposal: Proposal | None = None, project: Project | None = None, **fields
) -> Adjustment:
    return _row(
        session,
        Adjustment,
        fields,
        proposal_id=(proposal or make_proposal(session)).id,
        project_id=(project or _another_project(session)).id,
        kind=AdjustmentKind.exclude.value,
    )


# Pledges ------------------------------------------------------------------------------------


def make_pledge(
    session: Session, company: Company | None = None, project: Project | None = None, **fields
) -> Pledge:
    company = company or make_company(session)
    return _row(
        session,
        Pledge,
        fields,
        company_id=company.id,
        project_id=(project or _another_project(session)).id,
        period=PERIOD,
        amount_minor=10_000,
        currency=company.currency,
        due_on=date(2026, 12, 15),
    )


def make_payment(session: Session, pledge: Pledge | None = None, **fields) -> Payment:
    pledge = pledge or make_pledge(session)
    return _row(
        session,
        Payment,
        fields,
        company_id=pledge.company_id,
        pledge_id=pledge.id,
        amount_minor=pledge.amount_minor,
        currency=pledge.currency,
        paid_on=pledge.due_on,
        platform="github_sponsors",
    )


def make_pledge_settings(
    session: Session, company: Company | None = None, **fields
) -> PledgeSettings:
    return _row(session, PledgeSettings, fields, company_id=(company or make_company(session)).id)


def make_pledge_export(session: Session, company: Company | None = None, **fields) -> PledgeExport:
    return _row(
        session,
        PledgeExport,
        fields,
        company_id=(company or make_company(session)).id,
        period=PERIOD,
        kind="csv",
        checksum="0" * 64,
    )


def make_receipt_mapping(
    session: Session, company: Company | None = None, **fields
) -> ReceiptMapping:
    return _row(
        session,
        ReceiptMapping,
        fields,
        company_id=(company or make_company(session)).id,
        preset="custom",
    )


def make_receipt_import(
    session: Session, company: Company | None = None, **fields
) -> ReceiptImport:
    return _row(
        session,
        ReceiptImport,
        fields,
        company_id=(company or make_company(session)).id,
        preset="custom",
        filename="receipts.csv",
        content=b"",
    )


def make_receipt(
    session: Session, receipt_import: ReceiptImport | None = None, **fields
) -> Receipt:
    receipt_import = receipt_import or make_receipt_import(session)
    return _row(
        session,
        Receipt,
        fields,
        company_id=receipt_import.company_id,
        import_id=receipt_import.id,
        row=1,
        fingerprint=f"{next(_ids):064x}",
        platform="github_sponsors",
        account="someone",
        amount_minor=10_000,
        currency="USD",
        paid_on=date(2026, 12, 15),
    )


def make_outbound_pause(session: Session, **fields) -> OutboundPause:
    return _row(
        session, OutboundPause, fields, key=f"host{next(_ids)}.example", until=1_800_000_000.0
    )


def make_outbound_slot(session: Session, **fields) -> OutboundSlot:
    return _row(session, OutboundSlot, fields, key=f"host{next(_ids)}.example", slot=0)


def make_outbound_spacing(session: Session, **fields) -> OutboundSpacing:
    return _row(
        session,
        OutboundSpacing,
        fields,
        key=f"host{next(_ids)}.example",
        next_start=1_800_000_000.0,
    )
