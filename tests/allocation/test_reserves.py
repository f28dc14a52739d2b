"""Held money has a way out: a reserve is caught up when its project can be paid, or
re-spread over the month's split when its hold runs out (or the project is excluded or
gone), and the proposal says which, from where and how much."""

from __future__ import annotations

import pytest
from sqlmodel import select

from service.allocation.adjustments import remove_adjustment
from service.allocation.engine import Candidate, ProductUse
from service.allocation.engine.reserves import Reserve, release
from service.allocation.models import Adjustment
from service.allocation.policy import Policy
from service.allocation.queries import lines_of
from service.allocation.review import approve
from service.allocation.unpaid import Unpaid, invitation, not_paid
from service.audit.services import Actor
from service.pledges.models import Pledge
from service.projects.models import Maintainer
from tests.allocation.data import acme, claim
from tests.allocation.test_proposals import NOW, UNCAPPED, adjust, generate, save_policy
from tests.conftest import login

TINY = "github.com/tiny/tiny"


def candidate(key: str, **fields) -> Candidate:
    return Candidate(key=key, uses=(ProductUse("web", 1),), **fields)


def reserve(key: str, amount: int = 1_000, months: int = 1) -> Reserve:
    return Reserve(1, key, amount, months, "2031-01")


# The rule (pure) ------------------------------------------------------------------------------


def test_each_reserve_is_kept_caught_up_or_respread_by_the_eligibility_rule():
    policy = Policy(hold_months=2)
    decided = release(
        [
            reserve("a/still-unclaimed"),
            reserve("b/now-claimed", 2_000),
            reserve("c/hold-ran-out", 3_000, months=2),
            reserve("d/gone", 4_000),
            reserve("e/excluded", 500),
        ],
        {
            "a/still-unclaimed": candidate("a/still-unclaimed", months_held=1),
            "b/now-claimed": candidate("b/now-claimed", claimed=True, months_held=1),
            "c/hold-ran-out": candidate("c/hold-ran-out", months_held=2),
            "e/excluded": candidate("e/excluded", claimed=True, excluded=True),
        },
        policy,
    )
    assert [r.key for r in decided.kept] == ["a/still-unclaimed"]
    assert [r.key for r in decided.caught_up] == ["b/now-claimed"]
    assert [(r.reserve.key, r.why) for r in decided.respread] == [
        ("c/hold-ran-out", "unclaimed after 2 month(s) on hold: its share went to the others"),
        ("d/gone", "no product uses it any more"),
        ("e/excluded", "excluded by the OSPO"),
    ]
    assert (decided.caught_up_total, decided.respread_total, decided.released_total) == (
        2_000,
        7_500,
        9_500,
    )


def test_the_skip_policy_respreads_every_unclaimed_reserve_at_once():
    decided = release(
        [reserve("a/x")], {"a/x": candidate("a/x", months_held=1)}, Policy(unclaimed="skip")
    )
    assert decided.kept == () and decided.respread[0].why.startswith("unclaimed, and the policy")


def test_a_reserve_round_trips_through_the_stored_form():
    original = reserve("a/x", 1_234, 3)
    assert Reserve.from_dict(original.to_dict()) == original


# Through the proposals ------------------------------------------------------------------------


@pytest.fixture
def scenario(session):
    found = acme(session)
    save_policy(session, found.company, UNCAPPED)
    return found


def approve_months(session, scenario, *periods):
    """Generate and approve each period; tiny (unclaimed) is held in each."""
    for period in periods:
        proposal = generate(session, scenario, period)
        approve(session, Actor(user_id=scenario.owner.id), proposal, None, NOW)
        session.commit()


def kinds_of(session, proposal, key):
    return {line.kind: line for line in lines_of(session, proposal.id) if line.project_key == key}


def test_a_claimed_project_gets_its_reserve_as_a_catch_up_line_and_pledge(session, scenario):
    approve_months(session, scenario, "2026-12", "2027-01")  # 125.00 held in each
    claim(session, scenario.projects["tiny"], scenario.maintainer)
    proposal = generate(session, scenario, "2027-02")
    tiny = kinds_of(session, proposal, TINY)
    assert set(tiny) == {"line", "catch_up"}
    catch_up = tiny["catch_up"]
    assert (catch_up.amount_minor, catch_up.flags) == (25_000, ["catch_up"])
    assert catch_up.reason == (
        "catch-up: 250.00 USD held for its maintainers for 2 months since 2026-12, "
        "released now that the project can be paid"
    )
    # The month's money is the monthly budget plus the reserve released; every cent placed.
    assert proposal.budget_minor == 100_000 + 25_000
    assert proposal.stats["released_minor"] == 25_000
    assert proposal.paid_minor + proposal.held_minor + proposal.remainder_minor == 125_000
    assert proposal.paid_minor == 25_000 + sum(
        line.amount_minor for line in lines_of(session, proposal.id) if line.kind == "line"
    )
    approve(session, Actor(user_id=scenario.owner.id), proposal, None, NOW)
    session.commit()
    pledge = session.exec(
        select(Pledge).where(
            Pledge.project_id == scenario.projects["tiny"].id, Pledge.period == "2027-02"
        )
    ).one()
    assert pledge.amount_minor == tiny["line"].amount_minor + 25_000
    # Paid out once: the next month has nothing left to release.
    after = generate(session, scenario, "2027-03")
    assert "catch_up" not in kinds_of(session, after, TINY)
    assert after.stats["reserves"] == [] and after.stats["released_minor"] == 0


def test_an_expired_hold_is_respread_and_the_proposal_says_from_where(session, scenario):
    approve_months(session, scenario, "2026-12", "2027-01")
    proposal = generate(session, scenario, "2027-02")
    assert kinds_of(session, proposal, TINY)["omitted"].omitted_code == "hold_expired"
    assert proposal.budget_minor == 125_000
    assert proposal.stats["release"]["respread"] == [
        {
            "project_id": scenario.projects["tiny"].id,
            "key": TINY,
            "amount_minor": 25_000,
            "months": 2,
            "since": "2026-12",
            "why": "unclaimed after 2 month(s) on hold: its share went to the others",
        }
    ]
    paid = sum(line.amount_minor for line in lines_of(session, proposal.id) if line.kind == "line")
    assert paid + proposal.remainder_minor == 125_000  # the others share it


def test_excluding_a_caught_up_project_respreads_its_reserve_and_removing_it_undoes(
    session, scenario
):
    approve_months(session, scenario, "2026-12")
    claim(session, scenario.projects["tiny"], scenario.maintainer)
    proposal = generate(session, scenario, "2027-01")
    assert kinds_of(session, proposal, TINY)["catch_up"].amount_minor == 12_500
    adjust(session, scenario, proposal, "tiny", "exclude")
    assert "catch_up" not in kinds_of(session, proposal, TINY)
    assert proposal.stats["release"]["respread"][0]["why"] == "excluded by the OSPO"
    assert proposal.budget_minor == 112_500
    assert proposal.paid_minor + proposal.held_minor + proposal.remainder_minor == 112_500
    added = session.exec(select(Adjustment).where(Adjustment.proposal_id == proposal.id)).one()
    remove_adjustment(session, Actor(user_id=scenario.reviewer.id), proposal, added.id)
    session.commit()
    assert kinds_of(session, proposal, TINY)["catch_up"].amount_minor == 12_500


def test_the_review_page_shows_the_catch_up_line_and_where_the_budget_came_from(
    client, session, scenario
):
    approve_months(session, scenario, "2026-12")
    claim(session, scenario.projects["tiny"], scenario.maintainer)
    generate(session, scenario, "2027-01")
    login(client, scenario.reviewer)
    page = client.get(f"/c/{scenario.company.slug}/proposals/2027-01").get_data(as_text=True)
    assert 'id="p{}-catch-up"'.format(scenario.projects["tiny"].id) in page
    assert "catch-up: 125.00 USD held for its maintainers for 1 month since 2026-12" in page
    assert "125.00 released from reserves" in page
    only = client.get(f"/c/{scenario.company.slug}/proposals/2027-01?kind=catch_up")
    assert only.get_data(as_text=True).count("catch-up:") == 1


# Who was not paid, and why ----------------------------------------------------------------


def test_the_invitation_points_the_maintainers_at_their_project_page():
    entry = Unpaid(7, TINY, "held", "unclaimed", 12_500, 2, 37_500, 3, "2026-12")
    text = invitation(entry, company="Acme", currency="USD", claim_url="https://t.example/p")
    assert text.splitlines()[:8] == [
        f"Subject: Acme would like to sponsor {TINY}",
        "",
        "Hello,",
        "",
        f"Acme uses {TINY} in 2 of its products and sets aside part of its monthly open "
        "source budget for the maintainers of the projects it depends on.",
        "375.00 USD is reserved for this project so far (3 months, since 2026-12).",
        "",
        "To receive it, sign in with your GitHub account and claim the project on its page "
        "(admin or maintain rights on the repository, or a FUNDING.yml naming you, prove it "
        "is yours):",
    ]
    assert "\nhttps://t.example/p\n" in text and text.endswith("Thank you for your work,\nAcme\n")


def test_the_not_paid_page_lists_reserves_with_their_age_and_every_reason(
    client, session, scenario
):
    save_policy(session, scenario.company, {**UNCAPPED, "hold_months": 3})
    session.add(Maintainer(project_id=scenario.projects["tiny"].id, login="tina", source="pypi"))
    session.commit()
    approve_months(session, scenario, "2026-12", "2027-01")
    proposal = generate(session, scenario, "2027-02")
    found = not_paid(session, proposal)
    assert [(e.key, e.amount_minor, e.reserved_minor, e.months, e.since) for e in found.held] == [
        (TINY, 12_500, 37_500, 3, "2026-12")
    ]
    assert found.held[0].contacts == [
        "repository: https://github.com/tiny/tiny",
        "pypi maintainer: tina",
    ]
    assert found.omitted_counts == {"first_party": 1}
    login(client, scenario.viewer)
    page = client.get(f"/c/{scenario.company.slug}/proposals/2027-02/not-paid")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "375.00" in text and "since 2026-12" in text and "pypi maintainer: tina" in text
    assert "http://localhost/projects/github.com/tiny/tiny" in text  # the claim link
    assert "first party" in text and "Nothing to do" in text


def test_another_companys_not_paid_page_answers_404(client, session, scenario):
    approve_months(session, scenario, "2026-12")
    other = acme(session, slug="other")
    login(client, other.viewer)
    assert client.get(f"/c/{scenario.company.slug}/proposals/2026-12/not-paid").status_code == 404
