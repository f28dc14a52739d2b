"""Background work of the pledges domain (run by `tributary scheduler`).

* ``pledges.daily_due_checks`` (06:00 UTC): for every company with pledges still being
  paid, compare them with the company's current inventory. A pledge whose project left
  every product's latest SBOM is marked ``ending`` (it is still owed this month; the next
  approved proposal ends it) and the reviewers and owners get one in-app notice; a
  project that came back turns its pledge active again. Idempotent: a second run the
  same day changes nothing. One transaction per company.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlmodel import col, select

from service.audit.services import Actor
from service.companies.models import Company
from service.db import get_db
from service.jobs.registry import periodic
from service.notifications.services import company_people, notify
from service.pledges.models import Pledge
from service.pledges.services import PAYING, check_due
from service.projects.inventory import company_inventory

log = logging.getLogger(__name__)
SCHEDULER = Actor.system("scheduler")


@periodic("pledges.daily_due_checks", cron={"hour": 6})
def daily_due_checks(now: datetime) -> None:
    """Mark pledges of projects that left the inventory as ending."""
    database = get_db()
    with database.transaction() as session:
        company_ids = session.exec(
            select(Pledge.company_id)
            .where(col(Pledge.status).in_(PAYING))
            .distinct()
            .order_by(col(Pledge.company_id))
        ).all()
    for company_id in company_ids:
        try:
            with database.transaction() as session:
                company = session.get(Company, company_id)
                inventory = company_inventory(session, company_id)
                result = check_due(session, SCHEDULER, company_id, inventory.projects, now)
                if result.ending:
                    notify(
                        session,
                        [u.id for u in company_people(session, company_id)],
                        "pledges_ending",
                        f"{company.name}: {len(result.ending)} pledged project(s) left every "
                        "product's latest SBOM; their pledges end with the next approved "
                        "proposal.",
                        company_id=company_id,
                        link=f"/c/{company.slug}/proposals",
                        now=now,
                    )
        except Exception:
            log.exception("pledge check failed for company %s", company_id)
