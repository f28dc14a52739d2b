"""Background work of the pledges domain (run by `tributary scheduler`).

* ``pledges.daily`` (06:00 UTC): for every company with open pledges or monthly manual
  ones, repeat the monthly manual pledges into the current month, then mark pledges past
  their due date and not fully paid as ``overdue``; the owners get one in-app notice
  naming how many became overdue. Idempotent: a second run the same day changes nothing.
  One transaction per company; the day is the clock's (tests move it).
"""

from __future__ import annotations

import logging
from datetime import datetime

from service.audit.services import Actor
from service.companies.models import Company, Role
from service.db import get_db
from service.jobs.registry import periodic
from service.money import Money
from service.notifications.services import company_people, notify
from service.pledges import daily_check
from service.pledges.lifecycle import period_of

log = logging.getLogger(__name__)
SCHEDULER = Actor.system("scheduler")


@periodic("pledges.daily", cron={"hour": 6})
def daily(now: datetime) -> None:
    """Repeat monthly pledges and mark overdue ones, company by company."""
    database = get_db()
    with database.transaction() as session:
        company_ids = daily_check.companies_with_open_pledges(session)
    for company_id in company_ids:
        try:
            with database.transaction() as session:
                run_for_company(session, company_id, now)
        except Exception:
            log.exception("daily pledge check failed for company %s", company_id)


def run_for_company(session, company_id: int, now: datetime) -> None:
    company = session.get(Company, company_id)
    daily_check.repeat_monthly(session, SCHEDULER, company_id, period_of(now.date()), now)
    overdue = daily_check.mark_overdue(session, SCHEDULER, company_id, now.date(), now)
    if not overdue:
        return
    owed: dict[str, int] = {}
    for pledge in overdue:
        owed[pledge.currency] = (
            owed.get(pledge.currency, 0) + pledge.amount_minor - pledge.paid_minor
        )
    amounts = ", ".join(str(Money(minor, currency)) for currency, minor in sorted(owed.items()))
    notify(
        session,
        [u.id for u in company_people(session, company_id, Role.owner)],
        "pledges_overdue",
        f"{company.name}: {len(overdue)} pledge(s) became overdue ({amounts} still owed).",
        company_id=company_id,
        link=f"/c/{company.slug}/pledges?state=overdue",
        now=now,
    )
