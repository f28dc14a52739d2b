"""Scores from stored data: signals gathered per company, weights, dated snapshots."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from service.audit.models import Event
from service.companies.models import Role
from service.risk.criticality import criticality
from service.risk.gather import gather
from service.risk.models import CompanyExposureSnapshot, ProjectRisk, RiskSnapshot
from service.risk.services import RiskError, recompute_company, set_weights
from tests.factories import make_company, make_user
from tests.risk.data import (
    ACTOR,
    FETCHED_ISO,
    NOW,
    acme_scenario,
    cache_row,
    make_project,
    resolve,
    upload,
)


def snapshots(session, company, project):
    return session.exec(
        select(RiskSnapshot)
        .where(RiskSnapshot.company_id == company.id, RiskSnapshot.project_id == project.id)
        .order_by(RiskSnapshot.taken_on)
    ).all()


def by_signal(snapshot):
    return {line["signal"]: line for line in snapshot.breakdown}


def test_signals_from_stored_data_give_the_hand_computed_breakdown(session):
    company = make_company(session)
    projects = acme_scenario(session, company)
    report = recompute_company(session, company, now=NOW)
    session.commit()
    assert (report.projects, report.changed, report.removed) == (3, 3, 0)

    [snapshot] = snapshots(session, company, projects["left"])
    lines = by_signal(snapshot)
    # Raw values: 3 of 4 products, direct, and the cache rows of acme_scenario.
    expected_raw = {
        "products_using": 0.75,
        "direct": True,
        "dependents": 500,
        "publishers": 1,
        "active_contributors": 1,
        "months_since_release": 26,  # 2024-01-01 → 2026-03-15: 804 days = 26.4 months
        "scorecard_maintained": 0,
        "scorecard_score": 3.0,
        "advisories": 2,
        "archived_or_deprecated": False,
        "funding_gap": True,
    }
    assert {name: line["raw"] for name, line in lines.items()} == expected_raw
    normalized = {
        "products_using": 0.75,
        "direct": 1.0,
        "dependents": round(math.log(501) / math.log(10_001), 4),  # 0.675
        "publishers": 1.0,
        "active_contributors": round(1 - math.log(2) / math.log(11), 4),  # 0.7109
        "months_since_release": 1.0,  # 26/24, capped
        "scorecard_maintained": 1.0,
        "scorecard_score": 0.7,
        "advisories": round(math.log(3) / math.log(6), 4),  # 0.6131
        "archived_or_deprecated": 0.0,
        "funding_gap": 1.0,
    }
    assert {name: line["normalized"] for name, line in lines.items()} == normalized
    weights = {
        "products_using": 15,
        "direct": 5,
        "dependents": 10,
        "publishers": 15,
        "active_contributors": 10,
        "months_since_release": 10,
        "scorecard_maintained": 10,
        "scorecard_score": 5,
        "advisories": 5,
        "archived_or_deprecated": 5,
        "funding_gap": 5,
    }
    with_data = sum(weights.values())  # 95 of 110: downloads and criticality are missing
    expected = round(sum(normalized[n] * w for n, w in weights.items()) / with_data * 100, 1)
    assert expected == 80.7
    assert snapshot.score == expected
    assert snapshot.coverage == round(95 / 110, 4)
    assert sorted(snapshot.missing) == ["criticality", "downloads"]
    assert math.isclose(sum(line["contribution"] for line in lines.values()), 80.7)
    # Provenance: the row each value came from.
    assert (lines["publishers"]["source"], lines["publishers"]["fetched_at"]) == (
        "npm",
        FETCHED_ISO,
    )
    assert lines["scorecard_maintained"]["source"] == "deps.dev"
    assert lines["active_contributors"]["source"] == "GitHub"
    assert lines["products_using"]["source"] == "SBOMs"
    assert lines["funding_gap"]["source"] == "GitHub, deps.dev, npm"
    assert snapshot.dependence == 3.0  # three products at depth 1

    # Only the SBOMs know tiny: depth 2 in one of four products, transitive, no data else.
    [tiny] = snapshots(session, company, projects["tiny"])
    assert {line["signal"]: line["raw"] for line in tiny.breakdown} == {
        "products_using": 0.25,
        "direct": False,
    }
    assert tiny.score == 18.8  # 0.25·15 / 20 · 100 = 18.75, half up
    assert tiny.dependence == 0.5
    # A funding channel counts as funded: funding_gap 0 from the channel's source.
    [framework] = snapshots(session, company, projects["framework"])
    assert by_signal(framework)["funding_gap"]["raw"] is False
    assert by_signal(framework)["funding_gap"]["source"] == "FUNDING.yml"
    assert framework.score == 35.0  # (0.25·15 + 5 + 0·5) / 25 · 100


def test_missing_signals_change_coverage_not_scale(session):
    company = make_company(session)
    upload(session, company, "only", ["pkg:npm/solo"])
    solo = make_project(session, "github.com/solo/solo")
    resolve(session, "pkg:npm/solo", solo)
    recompute_company(session, company, now=NOW)
    [first] = snapshots(session, company, solo)
    # One product of one, direct: both known signals are at their riskiest.
    assert (first.score, first.coverage) == (100.0, round(20 / 110, 4))

    cache_row(session, "npm", "pkg:npm/solo", publishers_count=10)
    recompute_company(session, company, now=NOW)
    [second] = snapshots(session, company, solo)  # same day: the row is updated
    # publishers 10 → 0.1 (weight 15); an answer without a funding channel also makes
    # funding_gap known (1, weight 5). Weighted mean over what is known, still 0..100.
    assert second.score == 66.3  # (15 + 5 + 0.1·15 + 5) / 40 · 100 = 66.25, half up
    assert second.coverage == round(40 / 110, 4)


def test_policy_weights_are_applied_and_validated(session):
    owner = make_user(session)
    company = make_company(session, members=[(owner, Role.owner)])
    projects = acme_scenario(session, company)
    set_weights(session, ACTOR, company, {"publishers": 30, "products_using": 0})
    session.commit()
    recompute_company(session, company, now=NOW)
    [snapshot] = snapshots(session, company, projects["left"])
    lines = by_signal(snapshot)
    assert lines["publishers"]["weight"] == 30
    assert lines["products_using"]["weight"] == 0 and lines["products_using"]["contribution"] == 0
    total = 110 - 15 + 15  # products_using 15 → 0, publishers 15 → 30
    assert snapshot.coverage == round((95 - 15 + 15) / total, 4)
    assert snapshot.score == round((76.6745 - 11.25 + 15) / 95 * 100, 1)

    with pytest.raises(RiskError) as bad:
        set_weights(session, ACTOR, company, {"publishers": -1})
    assert bad.value.field == "weights.publishers"
    with pytest.raises(RiskError) as unknown:
        set_weights(session, ACTOR, company, {"stars": 3})
    assert unknown.value.field == "weights.stars"
    event = session.exec(select(Event).where(Event.action == "risk.weights_changed")).one()
    assert event.details["changed"] == {"publishers": [15.0, 30.0], "products_using": [15.0, 0.0]}


def test_snapshots_over_time_are_upserts(session):
    company = make_company(session)
    projects = acme_scenario(session, company)
    left = projects["left"]
    recompute_company(session, company, now=NOW)
    first_day = snapshots(session, company, left)
    assert len(first_day) == 1

    # Next day, a new answer: a second dated row.
    next_day = NOW + timedelta(days=1)
    cache_row(
        session, "ecosystems", "pkg:npm/left-pad", downloads=1000, downloads_period="last-month"
    )
    report = recompute_company(session, company, now=next_day)
    assert report.changed == 1  # only left-pad's inputs changed
    rows = snapshots(session, company, left)
    assert [r.taken_on for r in rows] == [NOW.date(), next_day.date()]
    assert "downloads" in by_signal(rows[1]) and "downloads" not in by_signal(rows[0])

    # Same day again, another change: that day's row is updated, not duplicated.
    set_weights(session, ACTOR, company, {"downloads": 10})
    recompute_company(session, company, now=next_day + timedelta(hours=3))
    rows = snapshots(session, company, left)
    assert len(rows) == 2
    assert by_signal(rows[1])["downloads"]["weight"] == 10

    # Nothing changed: no project row, but the exposure gets its daily point.
    third = next_day + timedelta(days=1)
    again = recompute_company(session, company, now=third)
    assert again.changed == 0
    assert len(snapshots(session, company, left)) == 2
    exposure_days = session.exec(
        select(CompanyExposureSnapshot.taken_on).where(
            CompanyExposureSnapshot.company_id == company.id
        )
    ).all()
    assert sorted(exposure_days) == [NOW.date(), next_day.date(), third.date()]


def test_projects_leaving_the_inventory_lose_their_current_score(session):
    company = make_company(session)
    projects = acme_scenario(session, company)
    recompute_company(session, company, now=NOW)
    upload(session, company, "worker", ["pkg:npm/left-pad"])  # framework and tiny gone
    report = recompute_company(session, company, now=NOW + timedelta(days=1))
    assert report.removed == 2
    current = session.exec(
        select(ProjectRisk.project_id).where(ProjectRisk.company_id == company.id)
    ).all()
    assert current == [projects["left"].id]
    # Their history stays.
    assert len(snapshots(session, company, projects["tiny"])) == 1


def test_scores_are_per_company(session):
    a = make_company(session)
    b = make_company(session)
    projects = acme_scenario(session, a)
    upload(session, b, "one", ["pkg:npm/left-pad"])
    recompute_company(session, a, now=NOW)
    recompute_company(session, b, now=NOW)
    [in_a] = snapshots(session, a, projects["left"])
    [in_b] = snapshots(session, b, projects["left"])
    assert by_signal(in_a)["products_using"]["raw"] == 0.75
    assert by_signal(in_b)["products_using"]["raw"] == 1.0
    assert in_a.score != in_b.score


def test_gather_reads_no_network_and_marks_unknown_funding_as_missing(session):
    company = make_company(session)
    projects = acme_scenario(session, company)
    inventory, inputs = gather(session, company.id, NOW)
    assert inventory.products == ["api", "cli", "web", "worker"]
    assert "funding_gap" not in inputs[projects["tiny"].id].signals
    assert inputs[projects["framework"].id].funded
    assert not inputs[projects["left"].id].funded


def test_person_recompute_is_audited(session):
    user = make_user(session)
    company = make_company(session, members=[(user, Role.owner)])
    acme_scenario(session, company)
    from service.audit.services import Actor

    recompute_company(session, company, actor=Actor(user_id=user.id), now=NOW)
    session.commit()
    event = session.exec(select(Event).where(Event.action == "risk.recomputed")).one()
    assert event.details["projects"] == 3


def test_repository_activity_fills_every_criticality_input_with_its_source(session):
    company = make_company(session)
    upload(session, company, "web", ["pkg:npm/busy"])
    project = make_project(session, "github.com/busy/busy")
    resolve(session, "pkg:npm/busy", project)
    cache_row(session, "depsdev", "pkg:npm/busy", dependents=1200)
    cache_row(
        session,
        "github",
        "pkg:github/busy/busy",
        created_at=datetime(2016, 3, 1, tzinfo=UTC),
        pushed_at=datetime(2026, 1, 10, tzinfo=UTC),
        contributors_count=40,
        active_contributors=7,
        org_count=3,
        commits_last_year=130,
        releases_last_year=4,
        issues_closed_90d=12,
        issues_updated_90d=30,
        comment_frequency=2.5,
    )
    recompute_company(session, company, now=NOW)
    [snapshot] = snapshots(session, company, project)
    lines = by_signal(snapshot)
    inputs = {
        "created_since": 120,  # 2016-03-01 → 2026-03-15
        "updated_since": 2,  # 2026-01-10 → 2026-03-15: 64 days
        "contributor_count": 40,
        "org_count": 3,
        "commit_frequency": 2.5,  # 130 commits / 52 weeks
        "recent_releases_count": 4,
        "closed_issues_count": 12,
        "updated_issues_count": 30,
        "comment_frequency": 2.5,
        "dependents_count": 1200,
    }
    assert lines["criticality"]["raw"] == inputs
    assert snapshot.criticality == criticality(inputs)
    assert lines["active_contributors"]["raw"] == 7
    assert lines["active_contributors"]["source"] == "GitHub"
    assert sorted(snapshot.missing) == [
        "advisories",
        "archived_or_deprecated",
        "downloads",
        "months_since_release",
        "publishers",
        "scorecard_maintained",
        "scorecard_score",
    ]
    _inventory, gathered = gather(session, company.id, NOW)
    signals = gathered[project.id].signals
    assert {name: signals[name]["source"] for name in inputs} == {
        **dict.fromkeys(inputs, "GitHub"),
        "dependents_count": "deps.dev",
    }
    assert signals["created_since"]["fetched_at"] == FETCHED_ISO


def test_dependents_alone_are_no_criticality_and_top_contributors_stand_in(session):
    company = make_company(session)
    upload(session, company, "web", ["pkg:npm/quiet", "pkg:npm/listed"])
    quiet = make_project(session, "github.com/quiet/quiet")
    listed = make_project(session, "github.com/listed/listed")
    resolve(session, "pkg:npm/quiet", quiet)
    resolve(session, "pkg:npm/listed", listed)
    cache_row(session, "depsdev", "pkg:npm/quiet", dependents=10)
    cache_row(session, "github", "pkg:github/quiet/quiet", archived=False)
    # The REST answer knows its top contributors of all time, not who was active lately.
    cache_row(session, "github", "pkg:github/listed/listed", contributors_count=5)
    _inventory, gathered = gather(session, company.id, NOW)
    assert "dependents_count" not in gathered[quiet.id].signals
    assert "active_contributors" not in gathered[quiet.id].signals
    signals = gathered[listed.id].signals
    assert (signals["active_contributors"]["value"], signals["contributor_count"]["value"]) == (
        5,
        5,
    )
