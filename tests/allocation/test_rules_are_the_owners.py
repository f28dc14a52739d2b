"""Who may change the rules: the budget, the policy and the risk weights are the owners';
a policy change while a proposal is open counts as a change of it under four eyes; every
change is audited old → new; new companies and the demo start with four eyes on."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import select

from service.allocation.errors import ProposalError
from service.allocation.generation import generate_proposal
from service.allocation.models import AllocationPolicy
from service.allocation.policy_store import save_policy
from service.allocation.review import approve
from service.audit.models import Event
from service.audit.services import Actor
from service.companies.services import create_company, update_settings
from service.risk.models import RiskWeights
from service.risk.services import set_weights
from tests.allocation.data import acme
from tests.conftest import login, post_form
from tests.factories import make_user

NOW = datetime(2026, 12, 1, 5, 0, tzinfo=UTC)
PERIOD = "2026-12"


def policy(session, actor, company, *, four_eyes: bool) -> None:
    save_policy(
        session,
        actor,
        company,
        {"cap": "1"},
        four_eyes=four_eyes,
        notify_email=False,
        webhook_url=None,
        webhook_secret=None,
        seal=lambda text: text,
    )
    session.commit()


def test_a_reviewer_cannot_change_budget_policy_or_weights(client, session, app):
    found = acme(session)
    company = found.company
    policy(session, Actor.system("test"), company, four_eyes=True)
    login(client, found.reviewer)
    slug = company.slug
    switched_off = post_form(client, app, f"/c/{slug}/policy", {"cap": "1"})
    raised = post_form(
        client, app, f"/c/{slug}/settings", {"name": company.name, "budget": "99999.00"}
    )
    weighted = post_form(client, app, f"/c/{slug}/risk/weights", {"publishers": "100"})
    assert [switched_off.status_code, raised.status_code, weighted.status_code] == [403] * 3
    session.refresh(company)
    assert company.monthly_budget_minor == 100_000
    assert session.get(AllocationPolicy, company.id).four_eyes is True
    assert session.get(RiskWeights, company.id) is None
    # The services refuse it too, whoever calls them.
    reviewer = Actor(user_id=found.reviewer.id)
    with pytest.raises(PermissionError, match="Only owners can change the allocation policy"):
        policy(session, reviewer, company, four_eyes=False)
    with pytest.raises(PermissionError, match="Only owners can change the monthly budget"):
        update_settings(session, reviewer, company, name=company.name, budget_minor=1)
    with pytest.raises(PermissionError, match="Only owners can change the risk weights"):
        set_weights(session, reviewer, company, {"publishers": 100})


def test_a_policy_change_while_in_review_is_a_change_of_the_proposal(session):
    found = acme(session)
    company = found.company
    owner = Actor(user_id=found.owner.id)
    policy(session, owner, company, four_eyes=True)
    proposal = generate_proposal(session, Actor.system("scheduler"), company, PERIOD, NOW)
    session.commit()
    # The owner switches four eyes off while the proposal is open: that change is theirs,
    # and four eyes still holds for this proposal, so they cannot approve it themselves.
    policy(session, owner, company, four_eyes=False)
    session.refresh(proposal)
    assert (proposal.last_edited_by_id, proposal.four_eyes) == (found.owner.id, True)
    with pytest.raises(ProposalError, match="Four-eyes approval is on"):
        approve(session, owner, proposal, None, NOW)
    session.rollback()
    approve(session, Actor(user_id=found.reviewer.id), proposal, None, NOW)
    session.commit()
    assert proposal.state == "approved"
    event = session.exec(
        select(Event).where(Event.action == "allocation.policy_changed").order_by(Event.id.desc())
    ).first()
    assert event.details["changed"] == {"four_eyes": [True, False]}


def test_budget_and_weight_changes_are_audited_old_to_new(session):
    found = acme(session)
    owner = Actor(user_id=found.owner.id)
    update_settings(session, owner, found.company, name="Acme", budget_minor=250_000)
    set_weights(session, owner, found.company, {"publishers": 30})
    session.commit()
    changed = {
        event.action: event.details["changed"]
        for event in session.exec(select(Event).where(Event.company_id == found.company.id))
        if "changed" in event.details
    }
    assert changed["company.settings_changed"]["budget_minor"] == [100_000, 250_000]
    assert changed["risk.weights_changed"] == {"publishers": [15.0, 30.0]}


def test_a_new_company_starts_with_four_eyes_on(session):
    founder = make_user(session)
    company = create_company(
        session, Actor(user_id=founder.id), slug="newco", name="NewCo", owner=founder
    )
    session.commit()
    actor = Actor(user_id=founder.id)
    proposal = generate_proposal(session, actor, company, PERIOD, NOW)
    session.commit()
    assert proposal.four_eyes is True
    with pytest.raises(ProposalError, match="Four-eyes approval is on"):
        approve(session, actor, proposal, None, NOW)
