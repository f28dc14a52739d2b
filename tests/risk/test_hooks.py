"""Risk asks the allocation domain for the current proposal's amounts through a signal."""

import pytest
from flask.signals import Namespace

from service.allocation.models import LineKind
from service.risk import hooks
from tests.factories import make_company, make_project, make_proposal, make_proposal_line


def test_the_started_app_answers_with_the_current_proposal(session):
    company = make_company(session)
    assert hooks.proposed_amounts(session, company.id) == {}
    proposal = make_proposal(session, company)
    paid, held, omitted = (make_project(session, f"github.com/o/{n}") for n in "pho")
    make_proposal_line(session, proposal, paid, amount_minor=4000)
    make_proposal_line(session, proposal, held, amount_minor=1500, kind=LineKind.held.value)
    make_proposal_line(session, proposal, omitted, amount_minor=0, kind=LineKind.omitted.value)
    assert hooks.proposed_amounts(session, company.id) == {paid.id: 4000, held.id: 1500}


def test_without_the_allocation_domain_it_says_who_should_answer(session, monkeypatch):
    monkeypatch.setattr(hooks, "proposed_amounts_wanted", Namespace().signal("unanswered"))
    with pytest.raises(RuntimeError, match="got 0: the allocation domain connects it"):
        hooks.proposed_amounts(session, 1)
