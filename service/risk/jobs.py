"""Background work of the risk domain (run by `tributary scheduler`).

* ``risk.recompute_company`` — queued when an SBOM's resolution finishes (a follow-up
  of ``projects.resolve_sbom``) and by anything else that changes a company's inputs:
  rescore that company now;
* ``risk.nightly_recompute`` (03:00 UTC, after the 02:00 metadata refresh) — rescore
  every company with an SBOM, so scores follow fresh metadata and the passing of time
  (months since the last release) and each company's exposure gets its daily point.

Both are idempotent: a second run on the same day changes nothing unless an input did.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlmodel import select

from service.audit.services import Actor
from service.companies.models import Company
from service.db import get_db
from service.jobs.queue import enqueue
from service.jobs.registry import after, periodic, task
from service.projects.services import RESOLVE_SBOM
from service.risk import services
from service.sboms.models import Sbom

log = logging.getLogger(__name__)
SCHEDULER = Actor.system("scheduler")


def queue_recompute(session, company_id: int) -> None:
    """Queue a recompute of one company in the caller's transaction (once at a time)."""
    enqueue(
        session,
        services.RECOMPUTE_TASK,
        {"company_id": company_id},
        unique_key=services.recompute_key(company_id),
        company_id=company_id,
    )


@after(RESOLVE_SBOM)
def rescore_resolved(payload: dict, now: datetime) -> None:
    """Once an SBOM's packages were resolved, rescore its company."""
    queue_recompute_for_sbom(int(payload["sbom_id"]))


def queue_recompute_for_sbom(sbom_id: int) -> None:
    """After an SBOM's packages were resolved: rescore its company (own transaction)."""
    with get_db().transaction() as session:
        sbom = session.get(Sbom, sbom_id)
        if sbom is not None:
            queue_recompute(session, sbom.company_id)


@task(services.RECOMPUTE_TASK)
def recompute(payload: dict, now: datetime) -> None:
    with get_db().transaction() as session:
        company = session.get(Company, int(payload["company_id"]))
        if company is None:
            return
        report = services.recompute_company(session, company, actor=SCHEDULER, now=now)
    log.info("risk recomputed for %s: %s", company.slug, report.as_dict())


@periodic("risk.nightly_recompute", cron={"hour": 3, "minute": 0})
def nightly(now: datetime) -> None:
    """Rescore every company's projects and record its exposure for the day."""
    database = get_db()
    with database.transaction() as session:
        company_ids = services.company_ids_with_sboms(session)
    for company_id in company_ids:
        # One transaction per company: a failure leaves the others' scores in place.
        try:
            with database.transaction() as session:
                company = session.exec(select(Company).where(Company.id == company_id)).one()
                services.recompute_company(session, company, actor=SCHEDULER, now=now)
        except Exception:
            log.exception("risk recompute failed for company %s", company_id)
