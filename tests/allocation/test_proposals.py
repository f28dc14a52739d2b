# ruff: noqa: RUF001 - reasons use the multiplication sign as the engine writes them
"""Proposals from the database: candidates, revisions, adjustments, approval and pledges."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlmodel import select

from service.allocation import adjustments, policy_store
from service.allocation.adjustments import remove_adjustment
from service.allocation.errors import ProposalError
from service.allocation.generation import generate_proposal
from service.allocation.inputs import build_candidates
from service.allocation.models import Adjustment, Proposal, ProposalLine, ProposalState
from service.allocation.queries import diff_against_previous, lines_of, proposal_for
from service.allocation.review import approve, reject
from service.audit.models import Event
from service.audit.services import Actor
from service.pledges.models import Pledge
from service.projects.models import Project
from tests.allocation.data import acme, make_project, resolve, upload

NOW = datetime(2026, 12, 1, 5, 0, tzinfo=UTC)
UNCAPPED = {"cap": "1"}


def save_policy(session, company, data=None, **options):
    policy_store.save_policy(
        session,
        Actor.system("test"),
        company,
        data or {},
        four_eyes=options.get("four_eyes", False),
        notify_email=options.get("notify_email", True),
        webhook_url=options.get("webhook_url"),
        webhook_secret=options.get("webhook_secret"),
        seal=lambda text: "sealed:" + text,
    )
    session.commit()


@pytest.fixture
def scenario(session):
    found = acme(session)
    save_policy(session, found.company, UNCAPPED)
    return found


def by_key(session, proposal):
    return {line.project_key: line for line in lines_of(session, proposal.id)}


def generate(session, scenario, period="2026-12", actor=None, **options):
    proposal = generate_proposal(
        session,
        actor or Actor(user_id=scenario.reviewer.id),
        scenario.company,
        period,
        NOW,
        **options,
    )
    session.commit()
    return proposal


def test_candidates_come_from_inventory_claims_orgs_and_latest_risk(session, scenario):
    candidates = {c.key: c for c in build_candidates(session, scenario.company, "2026-12")}
    assert set(candidates) == {
        "github.com/left/pad",
        "github.com/fw/framework",
        "github.com/tiny/tiny",
        "github.com/ACME/own-lib",
    }
    left = candidates["github.com/left/pad"]
    assert left.claimed and not left.first_party  # a funding channel
    assert float(left.risk) == 80.0  # the latest snapshot, not the older 10
    assert {(u.product, u.depth) for u in left.uses} == {("api", 1), ("web", 1)}
    assert candidates["github.com/fw/framework"].claimed  # an active claim
    tiny = candidates["github.com/tiny/tiny"]
    assert not tiny.claimed and tiny.risk is None and tiny.months_held == 0
    assert [(u.product, u.depth) for u in tiny.uses] == [("web", 2)]
    # The linked org is "acme"; the project's owner is "ACME": first-party all the same.
    assert candidates["github.com/ACME/own-lib"].first_party


def test_generation_stores_every_candidate_with_its_reason(session, scenario):
    proposal = generate(session, scenario)
    assert (proposal.period, proposal.revision, proposal.state) == ("2026-12", 1, "draft")
    lines = by_key(session, proposal)
    # Weights: left 2 x 1.3 = 2.6, framework 1 x 0.9, tiny 0.5 x 1 (held): total 4.0.
    assert lines["github.com/left/pad"].kind == "line"
    assert lines["github.com/left/pad"].amount_minor == 65_000
    assert lines["github.com/fw/framework"].amount_minor == 22_500
    assert lines["github.com/tiny/tiny"].kind == "held"
    assert lines["github.com/tiny/tiny"].amount_minor == 12_500
    own = lines["github.com/ACME/own-lib"]
    assert (own.kind, own.omitted_code, own.amount_minor) == ("omitted", "first_party", 0)
    left = lines["github.com/left/pad"]
    assert left.risk == 80.0 and left.risk_breakdown[0] == ["publishers", 40.0]
    assert left.products == [{"name": "api", "depth": 1}, {"name": "web", "depth": 1}]
    assert "risk 80 → ×1.30" in left.reason
    # "worker" has no project yet; the reasons count it as the proposal's inputs do.
    assert left.reason.startswith("used by 2 of 3 products")
    assert (proposal.paid_minor, proposal.held_minor, proposal.remainder_minor) == (
        87_500,
        12_500,
        0,
    )
    assert proposal.stats == {
        "products": 3,
        "packages": 5,
        "unresolved_packages": 1,
        "projects": 4,
        "monthly_budget_minor": 100_000,
        "carried_minor": 0,
        "reserves": [],  # nothing held before: nothing released
        "released_minor": 0,
        "release": {"caught_up": [], "respread": [], "kept": []},
    }
    assert proposal.policy["cap"] == 1
    event = session.exec(select(Event).where(Event.action == "proposal.generated")).one()
    assert event.company_id == scenario.company.id and event.details["revision"] == 1


def test_default_cap_is_relaxed_for_few_projects(session):
    found = acme(session)
    proposal = generate(session, found)
    amounts = sorted(
        line.amount_minor for line in by_key(session, proposal).values() if line.amount_minor
    )
    assert amounts == [33_333, 33_333, 33_334]
    assert proposal.cap_relaxed


def test_generating_again_returns_the_open_proposal(session, scenario):
    first = generate(session, scenario)
    again = generate(session, scenario)
    assert again.id == first.id
    assert len(session.exec(select(Proposal)).all()) == 1


def test_a_new_revision_supersedes_the_open_one_and_keeps_its_adjustments(session, scenario):
    first = generate(session, scenario)
    framework = scenario.projects["framework"]
    adjustments.adjust(
        session, Actor(user_id=scenario.reviewer.id), first, framework.id, "boost", "2"
    )
    session.commit()
    second = generate(session, scenario, replace=True)
    session.refresh(first)
    assert first.state == "superseded"
    assert (second.revision, second.state) == (2, "draft")
    carried = session.exec(select(Adjustment).where(Adjustment.proposal_id == second.id)).all()
    assert [(a.kind, a.value) for a in carried] == [("boost", "2")]
    assert "boosted" in by_key(session, second)["github.com/fw/framework"].flags


def test_an_approved_period_is_never_generated_again(session, scenario):
    proposal = generate(session, scenario)
    approve(session, Actor(user_id=scenario.owner.id), proposal, "ok", NOW)
    session.commit()
    for replace in (False, True):
        with pytest.raises(ProposalError, match=r"approved.*never replaced"):
            generate_proposal(
                session,
                Actor(user_id=scenario.owner.id),
                scenario.company,
                "2026-12",
                NOW,
                replace=replace,
            )
    session.rollback()
    assert len(session.exec(select(Proposal)).all()) == 1


def test_a_rejected_proposal_stays_and_a_new_revision_can_follow(session, scenario):
    proposal = generate(session, scenario)
    with pytest.raises(ProposalError, match="Say why"):
        reject(session, Actor(user_id=scenario.owner.id), proposal, "  ")
    reject(session, Actor(user_id=scenario.owner.id), proposal, "budget moves to Q1")
    session.commit()
    again = generate(session, scenario)
    session.refresh(proposal)
    assert proposal.state == "rejected" and proposal.decision_comment == "budget moves to Q1"
    assert again.revision == 2 and again.state == "draft"


# Adjustments -------------------------------------------------------------------------------


def adjust(session, scenario, proposal, name, kind, value=None, note=None, user=None):
    adjustments.adjust(
        session,
        Actor(user_id=(user or scenario.reviewer).id),
        proposal,
        scenario.projects[name].id,
        kind,
        value,
        note,
    )
    session.commit()
    return by_key(session, proposal)


def test_override_fixes_an_amount_with_its_note(session, scenario):
    proposal = generate(session, scenario)
    lines = adjust(session, scenario, proposal, "left", "override", "100.00", "agreed with legal")
    left = lines["github.com/left/pad"]
    assert left.amount_minor == 10_000 and "overridden" in left.flags
    assert "agreed with legal" in left.reason
    # The rest of the budget is re-split over the others.
    assert (
        lines["github.com/fw/framework"].amount_minor + lines["github.com/tiny/tiny"].amount_minor
        == 90_000
    )
    session.refresh(proposal)
    assert proposal.last_edited_by_id == scenario.reviewer.id
    event = session.exec(select(Event).where(Event.action == "proposal.adjusted")).one()
    assert event.details["amount_before"] == 65_000 and event.details["amount_after"] == 10_000


def test_exclude_removes_a_line_and_boost_raises_it(session, scenario):
    proposal = generate(session, scenario)
    before = by_key(session, proposal)["github.com/fw/framework"].amount_minor
    lines = adjust(session, scenario, proposal, "framework", "boost", "3")
    assert lines["github.com/fw/framework"].amount_minor > before
    lines = adjust(session, scenario, proposal, "left", "exclude")
    left = lines["github.com/left/pad"]
    assert (left.kind, left.omitted_code, left.amount_minor) == ("omitted", "excluded", 0)
    assert sum(line.amount_minor for line in lines.values()) == 100_000


def test_pin_guarantees_a_minimum(session, scenario):
    proposal = generate(session, scenario)
    lines = adjust(session, scenario, proposal, "framework", "pin_minimum", "400.00")
    framework = lines["github.com/fw/framework"]
    assert framework.amount_minor >= 40_000 and "pinned" in framework.flags


def test_removing_an_adjustment_recomputes(session, scenario):
    proposal = generate(session, scenario)
    adjust(session, scenario, proposal, "left", "exclude")
    active = session.exec(select(Adjustment).where(Adjustment.proposal_id == proposal.id)).one()
    remove_adjustment(session, Actor(user_id=scenario.owner.id), proposal, active.id)
    session.commit()
    left = by_key(session, proposal)["github.com/left/pad"]
    assert left.amount_minor == 65_000
    assert left.reason.startswith("used by 2 of 3 products")  # recomputed from stored inputs
    session.refresh(proposal)
    assert proposal.last_edited_by_id == scenario.owner.id


@pytest.mark.parametrize(
    ("kind", "value", "note", "message"),
    [
        ("override", "100.00", None, "Say why"),
        ("override", "12.345", "n", "more than 2 decimal places"),
        ("boost", "0", None, "multiplier > 0"),
        ("boost", "lots", None, "boost"),
        ("pin_minimum", "0", None, "amount > 0"),
        ("override", "2000.00", "n", "larger than the budget"),
        ("teleport", "1", None, "Unknown adjustment"),
    ],
)
def test_bad_adjustments_are_refused_with_the_reason(session, scenario, kind, value, note, message):
    proposal = generate(session, scenario)
    with pytest.raises(ProposalError, match=message):
        adjustments.adjust(
            session,
            Actor(user_id=scenario.reviewer.id),
            proposal,
            scenario.projects["left"].id,
            kind,
            value,
            note,
        )
    session.rollback()
    assert by_key(session, proposal)["github.com/left/pad"].amount_minor == 65_000


def test_adjusting_a_decided_proposal_is_refused(session, scenario):
    proposal = generate(session, scenario)
    approve(session, Actor(user_id=scenario.owner.id), proposal, None, NOW)
    session.commit()
    with pytest.raises(ProposalError, match="approved"):
        adjust(session, scenario, proposal, "left", "exclude")


# Approval ----------------------------------------------------------------------------------


def pledges(session, company):
    return {
        (session.get(Project, p.project_id).key, p.period): (p.amount_minor, p.state)
        for p in session.exec(select(Pledge).where(Pledge.company_id == company.id))
    }


def test_approval_turns_paid_lines_into_pledges(session, scenario):
    proposal = generate(session, scenario)
    approve(session, Actor(user_id=scenario.owner.id), proposal, "fine", NOW)
    session.commit()
    assert proposal.state == ProposalState.approved
    assert (proposal.decided_by_id, proposal.decision_comment) == (scenario.owner.id, "fine")
    # Held (unclaimed) lines are reserved, not pledged.
    assert pledges(session, scenario.company) == {
        ("github.com/left/pad", "2026-12"): (65_000, "pledged"),
        ("github.com/fw/framework", "2026-12"): (22_500, "pledged"),
    }
    actions = [e.action for e in session.exec(select(Event).order_by(Event.id))]
    assert actions[-3:] == ["pledge.created", "pledge.created", "proposal.approved"]


def test_next_approval_pledges_its_own_month(session, scenario):
    first = generate(session, scenario)
    approve(session, Actor(user_id=scenario.owner.id), first, None, NOW)
    session.commit()
    second = generate(session, scenario, "2027-01")
    adjust(session, scenario, second, "framework", "exclude")
    approve(session, Actor(user_id=scenario.owner.id), second, None, NOW)
    session.commit()
    assert pledges(session, scenario.company) == {
        ("github.com/left/pad", "2026-12"): (65_000, "pledged"),
        ("github.com/fw/framework", "2026-12"): (22_500, "pledged"),
        ("github.com/left/pad", "2027-01"): (83_871, "pledged"),
    }


def test_four_eyes_refuses_the_last_editor(session, scenario):
    save_policy(session, scenario.company, UNCAPPED, four_eyes=True)
    proposal = generate(session, scenario)  # generated by the reviewer: the last editor
    with pytest.raises(ProposalError, match="Four-eyes"):
        approve(session, Actor(user_id=scenario.reviewer.id), proposal, None, NOW)
    session.rollback()
    approve(session, Actor(user_id=scenario.owner.id), proposal, None, NOW)
    session.commit()
    assert proposal.state == "approved"


def test_only_reviewers_and_owners_decide(session, scenario):
    proposal = generate(session, scenario)
    for user in (scenario.viewer, scenario.maintainer):
        with pytest.raises(PermissionError):
            approve(session, Actor(user_id=user.id), proposal, None, NOW)
        with pytest.raises(PermissionError):
            reject(session, Actor(user_id=user.id), proposal, "no", NOW)
    with pytest.raises(PermissionError):
        approve(session, Actor.system("cli"), proposal, None, NOW)


def test_an_unclaimed_project_is_held_for_the_policy_months_then_respread(session, scenario):
    owner = Actor(user_id=scenario.owner.id)
    held = []
    for period in ("2026-12", "2027-01", "2027-02"):
        proposal = generate(session, scenario, period)
        line = by_key(session, proposal)["github.com/tiny/tiny"]
        held.append((line.kind, line.months_held, line.omitted_code))
        approve(session, owner, proposal, None, NOW)
        session.commit()
    assert held == [("held", 0, None), ("held", 1, None), ("omitted", 2, "hold_expired")]


def test_diff_against_last_months_approved_proposal(session, scenario):
    first = generate(session, scenario)
    approve(session, Actor(user_id=scenario.owner.id), first, None, NOW)
    session.commit()
    upload(session, scenario.company, "worker", ["pkg:npm/unknown-thing", "pkg:npm/newcomer"])
    newcomer = make_project(session, "github.com/new/comer")
    resolve(session, "pkg:npm/newcomer", newcomer)
    second = generate(session, scenario, "2027-01")
    adjust(session, scenario, second, "framework", "exclude")
    diff = diff_against_previous(session, second)
    assert diff.previous.id == first.id
    assert diff.new == ["github.com/new/comer"]
    assert diff.dropped == [("github.com/fw/framework", 22_500)]
    assert [key for key, _before, _after in diff.changed] == [
        "github.com/left/pad",
        "github.com/tiny/tiny",
    ]
    assert diff.change_of("github.com/new/comer", 1) is None


def test_pledges_feed_the_risk_coverage(session, scenario):
    from service.risk.services import pledge_amounts

    assert pledge_amounts(session, scenario.company.id) == {}
    proposal = generate(session, scenario)
    approve(session, Actor(user_id=scenario.owner.id), proposal, None, NOW)
    session.commit()
    left, framework = scenario.projects["left"].id, scenario.projects["framework"].id
    assert pledge_amounts(session, scenario.company.id) == {
        left: (65_000, 65_000),
        framework: (22_500, 22_500),
    }
    # Next month proposes more for left-pad: its pledge no longer covers it.
    adjust_next = generate(session, scenario, "2027-01")
    adjust(session, scenario, adjust_next, "framework", "exclude")
    assert pledge_amounts(session, scenario.company.id)[left] == (65_000, 83_871)


def test_tenants_are_isolated(session, scenario):
    other = acme(session)
    mine = generate(session, scenario)
    theirs = generate(session, other)
    assert proposal_for(session, scenario.company.id, "2026-12").id == mine.id
    assert proposal_for(session, other.company.id, "2026-12").id == theirs.id
    lines = session.exec(select(ProposalLine).where(ProposalLine.proposal_id == theirs.id)).all()
    assert lines and all(line.proposal_id == theirs.id for line in lines)


def test_bad_periods_are_refused(session, scenario):
    with pytest.raises(ProposalError, match="YYYY-MM"):
        generate(session, scenario, "2026-13")


def test_proposals_from_the_command_line(app, session, scenario):
    from service.cli import cli

    def run(*args):
        return app.test_cli_runner().invoke(cli, ["proposals", *args])

    slug = scenario.company.slug
    made = run("generate", "--company", slug, "--period", "2026-12", "--json")
    assert made.exit_code == 0, made.output
    assert json.loads(made.output) == {
        "period": "2026-12",
        "revision": 1,
        "state": "draft",
        "currency": "USD",
        "budget": "1000.00",
        "paid": "875.00",
        "held": "125.00",
        "remainder": "0.00",
    }
    again = run("generate", "--company", slug, "--period", "2026-12")
    assert "revision 1 (draft)" in again.output  # the open one, not a new one
    replaced = run("generate", "--company", slug, "--period", "2026-12", "--replace")
    assert "revision 2 (draft)" in replaced.output
    listed = run("list", "--company", slug, "--json")
    assert [(r["revision"], r["state"]) for r in json.loads(listed.output)] == [
        (2, "draft"),
        (1, "superseded"),
    ]
    assert "2026-12  r2" in run("list", "--company", slug).output
    bad = run("generate", "--company", slug, "--period", "12/2026")
    assert bad.exit_code != 0 and "expected YYYY-MM" in bad.output
    assert "No company" in run("list", "--company", "nope").output


def test_last_months_remainder_is_carried_into_the_budget(session, scenario):
    scenario.company.monthly_budget_minor = 100_050  # 1,000.50 in whole-dollar payouts
    session.add(scenario.company)
    save_policy(session, scenario.company, {"cap": "1", "granularity": "1.00"})
    first = generate(session, scenario)
    assert first.remainder_minor == 50
    approve(session, Actor(user_id=scenario.owner.id), first, None, NOW)
    session.commit()
    second = generate(session, scenario, "2027-01")
    assert second.budget_minor == 100_100  # 1,000.50 + 0.50 carried
    assert second.stats["carried_minor"] == 50
    assert second.remainder_minor == 0
    # Only from the month right before: a gap carries nothing.
    later = generate(session, scenario, "2027-03")
    assert later.budget_minor == 100_050
