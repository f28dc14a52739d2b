"""The OSPO reviewer's month: open the proposal, read why, adjust, approve."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser  # CI's clock-shifted runs leave them out


def test_reviewer_adjusts_and_approves_this_months_proposal(page, demo_server, tmp_path):
    sign_in(page, demo_server, "demo-reviewer")
    page.get_by_role("link", name="Proposals", exact=True).first.click()
    page.locator("main a", has_text=re.compile(r"^\d{4}-\d{2}$")).first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Proposal for")

    rows = page.locator("table.lines tbody tr")
    first = rows.first
    expect(first).to_contain_text("used by")  # every line says why it gets what it gets
    project = first.locator("td").first.locator("a").first.inner_text()

    first.locator("summary", has_text="Adjust").click()  # the line's menu
    first.get_by_label("Adjustment").select_option("override")
    first.get_by_label("Value").fill("250.00")
    first.get_by_label("Note").fill("critical to checkout")
    first.get_by_role("button", name="Apply").click()
    overridden = page.locator("table tbody tr", has_text=project).first
    expect(overridden).to_contain_text("250.00")
    page.screenshot(path=str(tmp_path / "review.png"), full_page=False)

    # The demo starts with four eyes on: whoever changed the proposal last cannot approve it.
    expect(page.get_by_role("button", name="Approve")).to_be_disabled()
    review_url = page.url
    sign_in(page, demo_server, "demo-owner")
    page.goto(review_url)
    page.locator("textarea[name=comment]").fill("Looks right for November.")
    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("approved")


def test_maintainer_claims_a_project_and_sets_a_payout_channel(page, demo_server):
    sign_in(page, demo_server, "demo-maintainer")
    page.get_by_role("link", name="My projects").click()
    candidate = page.locator("tr", has_text="jonathanong/ee-first")
    expect(candidate).to_contain_text("GitHub says you can administer or maintain it")
    candidate.get_by_role("button", name="Check with GitHub and claim").click()
    claimed = page.locator("table").first
    expect(claimed).to_contain_text("jonathanong/ee-first")
    expect(claimed).to_contain_text("maintain")
