"""The pledge tests' company: the allocation `acme` scenario with December approved
(left-pad 100.00 USD, framework 30.00 USD), due on 2027-01-15."""

from __future__ import annotations

import pytest

from service.audit.services import Actor
from service.pledges import approval
from tests.allocation.data import Acme, acme


@pytest.fixture
def found(session, clock) -> Acme:
    found = acme(session)
    approval.apply_approval(
        session,
        Actor.system("test"),
        company_id=found.company.id,
        proposal_id=None,
        period="2026-12",
        currency="USD",
        amounts={found.projects["left"].id: 10_000, found.projects["framework"].id: 3_000},
    )
    session.commit()
    return found
