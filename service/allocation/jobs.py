"""Background work of the allocation domain (run by `tributary scheduler`).

* ``allocation.monthly_proposals`` (1st of the month, 05:00 UTC): for every company with
  a budget above zero, generate the month's proposal — unless the month already has one,
  whatever its state — and put it into review, which tells the reviewers and owners.
  Each company is its own transaction, so a crash after some companies leaves theirs
  in place and a rerun (or the restarted scheduler's coalesced run) creates only the
  missing ones. A company that fails is logged and retried through the queue task
  ``allocation.generate_proposal`` (backoff), without holding up the others.
* ``allocation.generate_proposal`` — ``{"company_id", "period"}``: the same for one
  company; idempotent.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.exc import IntegrityError

from service.allocation.generation import generate_proposal
from service.allocation.queries import companies_due, proposals_of_period
from service.audit.services import Actor
from service.companies.models import Company
from service.core.clock import current_period
from service.db import get_db
from service.jobs.queue import enqueue
from service.jobs.registry import periodic, task

log = logging.getLogger(__name__)
SCHEDULER = Actor.system("scheduler")
GENERATE_TASK = "allocation.generate_proposal"


def generate_for_company(company_id: int, period: str, now: datetime) -> bool:
    """Generate and submit the period's proposal unless it has one. True when created."""
    try:
        with get_db().transaction() as session:
            company = session.get(Company, company_id)
            if company is None or company.monthly_budget_minor <= 0:
                return False
            if proposals_of_period(session, company_id, period):
                return False
            generate_proposal(session, SCHEDULER, company, period, now, submit=True)
            return True
    except IntegrityError:
        # Someone else (a "Preview now", a second run) created it at the same moment.
        log.info("proposal for company %s, %s already created elsewhere", company_id, period)
        return False


@periodic("allocation.monthly_proposals", cron={"day": 1, "hour": 5})
def monthly(now: datetime) -> None:
    """Generate each company's monthly proposal and put it into review."""
    period = current_period(now)
    database = get_db()
    with database.transaction() as session:
        company_ids = companies_due(session)
    created = 0
    for company_id in company_ids:
        try:
            created += generate_for_company(company_id, period, now)
        except Exception:
            log.exception("proposal for company %s, %s failed; retrying later", company_id, period)
            with database.transaction() as session:
                enqueue(
                    session,
                    GENERATE_TASK,
                    {"company_id": company_id, "period": period},
                    unique_key=f"allocation:{company_id}:{period}",
                    company_id=company_id,
                )
    log.info("monthly proposals for %s: %d created", period, created)


@task(GENERATE_TASK)
def generate(payload: dict, now: datetime) -> None:
    generate_for_company(int(payload["company_id"]), str(payload["period"]), now)
