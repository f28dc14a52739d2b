"""The owner funds the registries too: turn the infrastructure share on, see the steward's
line with its reason in this month's proposal, and a second reviewer approves it."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser  # CI's clock-shifted runs leave them out


def test_owner_turns_the_infrastructure_share_on_and_a_reviewer_approves(page, demo_server):
    sign_in(page, demo_server, "demo-owner")
    company = page.url.split("/c/", 1)[1].split("/", 1)[0]
    page.goto(f"{demo_server}/c/{company}/policy")
    page.locator("input[name=infrastructure_share]").fill("0.05")
    page.get_by_role("button", name="Save the policy").click()
    expect(page.locator(".flash")).to_contain_text("Policy saved")

    page.goto(f"{demo_server}/c/{company}/registries")
    expect(page.locator("main")).to_contain_text("250.00 USD")
    expect(page.locator("main")).to_contain_text("Python Software Foundation")

    page.goto(f"{demo_server}/c/{company}/proposals")
    page.get_by_role("button", name="Preview now").click()
    review_url = page.url
    line = page.locator("tr", has_text="infrastructure/pypi").first
    expect(line).to_contain_text("infrastructure")
    page.get_by_role("button", name="Submit for review").click()

    # Four eyes: the owner made this revision, so the reviewer approves it.
    page.context.clear_cookies()
    sign_in(page, demo_server, "demo-reviewer")
    page.goto(review_url)
    expect(page.get_by_text("of your dependence is on PyPI packages").first).to_be_attached()
    page.get_by_role("button", name="Approve").click()
    expect(page.locator(".flash")).to_contain_text("Approved:")
    page.goto(f"{demo_server}/c/{company}/pledges")
    expect(page.locator("main")).to_contain_text("infrastructure/pypi")
