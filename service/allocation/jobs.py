"""Background work of the allocation domain (queued by `tributary scheduler`, run by workers).

* ``allocation.monthly_proposals`` (1st of the month, 05:00 UTC): queues one
  ``allocation.generate_proposal`` task per company with a budget above zero, all in one
  transaction. Whatever a kill interrupts is then a task another worker picks up (after
  its lease), a company that fails is retried with backoff without holding up the others,
  and a second run queues nothing new (the tasks' unique keys are company + period).
* ``allocation.generate_proposal`` — ``{"company_id", "period"}``: generate the period's
  proposal and put it into review, which tells the reviewers and owners — unless the
  period already has one, whatever its state. Idempotent.
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
from service.jobs.queue import enqueue, pending_keys
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
                log.info("company %s, %s: no budget, no proposal", company_id, period)
                return False
            if proposals_of_period(session, company_id, period):
                log.info("company %s, %s: the period has its proposal already", company_id, period)
                return False
            generate_proposal(session, SCHEDULER, company, period, now, submit=True)
    except IntegrityError:
        # Someone else (a "Preview now", a second run) created it at the same moment.
        log.info("company %s, %s: proposal created elsewhere meanwhile", company_id, period)
        return False
    log.info("company %s, %s: proposal created and put into review", company_id, period)
    return True


@periodic("allocation.monthly_proposals", cron={"day": 1, "hour": 5})
def monthly(now: datetime) -> None:
    """Queue each company's monthly proposal (generated and put into review by a worker)."""
    period = current_period(now)
    with get_db().transaction() as session:
        keys = {
            company_id: f"allocation:{company_id}:{period}" for company_id in companies_due(session)
        }
        already = pending_keys(session, keys.values())
        for company_id, key in keys.items():
            enqueue(
                session,
                GENERATE_TASK,
                {"company_id": company_id, "period": period},
                unique_key=key,
                company_id=company_id,
            )
    log.info(
        "monthly proposals for %s: %d compan(ies) due, %d task(s) queued, %d already pending",
        period,
        len(keys),
        len(keys) - len(already),
        len(already),
    )


@task(GENERATE_TASK)
def generate(payload: dict, now: datetime) -> None:
    generate_for_company(int(payload["company_id"]), str(payload["period"]), now)
