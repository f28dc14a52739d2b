"""Company exposure: dependence, the sum, top unfunded risks, pledge coverage."""

from __future__ import annotations

from fractions import Fraction
from itertools import pairwise

import pytest
from sqlmodel import select

from service.allocation.engine import Candidate, ProductUse, project_weight
from service.risk import services
from service.risk.exposure import (
    NO_EXPOSURE,
    NO_PLEDGES,
    dependence,
    exposure_of,
    pledge_coverage,
)
from service.risk.models import CompanyExposureSnapshot
from service.risk.services import recompute_company, top_unfunded
from tests.factories import make_company, make_payout_channel, make_project_claim, make_user
from tests.risk.data import NOW, acme_scenario, make_project, resolve, upload


def test_dependence_is_the_allocations_product_and_depth_weight():
    assert dependence([1]) == 1.0
    assert dependence([2]) == 0.5
    assert dependence([None]) == 0.5  # unknown depth counts as depth 2
    assert dependence([1, 1, 3]) == 2.25
    assert dependence([]) == 0.0
    # The same number the allocation engine weighs a candidate by at neutral risk.
    uses = (ProductUse("a", 1), ProductUse("b", 3), ProductUse("c", None))
    candidate = Candidate(key="github.com/o/r", uses=uses, risk=50)
    assert Fraction(dependence([1, 3, None])) == project_weight(candidate)


def test_exposure_of_counts_unscored_at_the_neutral_risk():
    assert exposure_of(2.0, 40.0) == 80.0
    assert exposure_of(2.0, None) == 100.0


def test_pledge_coverage_is_the_share_held_by_sufficient_pledges():
    coverage = pledge_coverage(
        {
            1: (60.0, 5000, 5000),  # pledged exactly the proposal: covered
            2: (30.0, 4000, 5000),  # below the proposal: not covered
            3: (10.0, None, 2000),  # no pledge
        }
    )
    assert coverage.share == 0.6
    assert (coverage.covered, coverage.total, coverage.covered_projects) == (60.0, 100.0, 1)
    assert coverage.reason is None
    # Without a proposed amount any active pledge covers the project.
    assert pledge_coverage({1: (10.0, 100, None), 2: (30.0, None, None)}).share == 0.25


def test_pledge_coverage_says_why_it_is_zero():
    none = pledge_coverage({1: (50.0, None, None), 2: (20.0, None, 100)})
    assert (none.share, none.reason) == (0.0, NO_PLEDGES)
    assert none.reason == "no pledges recorded yet"
    empty = pledge_coverage({})
    assert (empty.share, empty.reason) == (0.0, NO_EXPOSURE)
    zero_pledges = pledge_coverage({1: (50.0, 0, 100)})
    assert zero_pledges.reason == NO_PLEDGES


def test_exposure_sum_unfunded_part_and_reason(session):
    company = make_company(session)
    projects = acme_scenario(session, company)
    recompute_company(session, company, now=NOW)
    row = session.exec(
        select(CompanyExposureSnapshot).where(CompanyExposureSnapshot.company_id == company.id)
    ).one()
    # left-pad 3 x 80.7, tiny 0.5 x 18.8, framework 1 x 35.0 (funded: a FUNDING.yml channel).
    assert row.exposure == pytest.approx(3 * 80.7 + 0.5 * 18.8 + 35.0)
    assert row.unfunded_exposure == pytest.approx(3 * 80.7 + 0.5 * 18.8)
    assert (row.projects, row.unscored_projects) == (3, 0)
    assert (row.coverage_share, row.coverage_reason) == (0.0, "no pledges recorded yet")
    coverage = services.current_coverage(session, company)
    assert coverage.reason == NO_PLEDGES and coverage.total == pytest.approx(row.exposure)

    top = top_unfunded(session, company.id)
    assert [r.key for r in top] == ["github.com/left/pad", "github.com/tiny/tiny"]
    assert top[0].exposure == pytest.approx(242.1) and top[0].dependence == 3.0
    assert projects["framework"].id not in {r.project_id for r in top}


def test_a_claim_with_a_payout_channel_funds_a_project(session):
    maintainer = make_user(session)
    company = make_company(session)
    projects = acme_scenario(session, company)
    make_project_claim(session, projects["tiny"], maintainer)
    recompute_company(session, company, now=NOW)
    # A claim alone is not enough: nobody can be paid yet.
    assert "github.com/tiny/tiny" in [r.key for r in top_unfunded(session, company.id)]
    make_payout_channel(session, maintainer, value="m")
    assert [r.key for r in top_unfunded(session, company.id)] == ["github.com/left/pad"]


def test_top_ten_keeps_the_ten_highest(session):
    company = make_company(session)
    purls = [f"pkg:npm/p{i:02d}" for i in range(12)]
    # p00..p11 all direct in product "a"; the first six also in product "b".
    upload(session, company, "a", purls)
    upload(session, company, "b", purls[:6])
    for index, purl in enumerate(purls):
        resolve(session, purl, make_project(session, f"github.com/o/p{index:02d}"))
    recompute_company(session, company, now=NOW)
    top = top_unfunded(session, company.id)
    assert len(top) == 10
    # Only SBOM data: the six used by both products score higher and depend twice as much.
    assert [r.key for r in top[:6]] == [f"github.com/o/p{i:02d}" for i in range(6)]
    assert all(r.exposure >= s.exposure for r, s in pairwise(top))


def test_pledges_once_recorded_cover_exposure_and_leave_the_unfunded_list(session, monkeypatch):
    company = make_company(session)
    projects = acme_scenario(session, company)
    left = projects["left"].id
    # What the pledges domain will answer: left-pad pledged 50.00 of a proposed 40.00.
    monkeypatch.setattr(
        services, "pledge_amounts", lambda _session, _company_id: {left: (5000, 4000)}
    )
    recompute_company(session, company, now=NOW)
    coverage = services.current_coverage(session, company)
    assert coverage.reason is None and coverage.covered_projects == 1
    assert coverage.share == round(242.1 / 286.5, 4)
    assert [r.key for r in top_unfunded(session, company.id)] == ["github.com/tiny/tiny"]
    row = session.exec(select(CompanyExposureSnapshot)).one()
    assert row.unfunded_exposure == pytest.approx(9.4)
