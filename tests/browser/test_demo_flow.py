"""A person signs in to the demo, sees the company and its members, makes and revokes a token."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser  # CI's clock-shifted runs leave them out


def test_demo_owner_manages_a_token(page, demo_server, tmp_path):
    page.goto(demo_server + "/")
    expect(page.locator(".demo-banner")).to_contain_text("Demo mode")
    page.get_by_role("link", name="Sign in").first.click()
    page.get_by_role("button", name="Sign in as demo-owner").click()

    expect(page).to_have_url(re.compile(r"/c/acme-demo/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Acme Demo")
    expect(page.locator(".who")).to_contain_text("demo-owner")

    page.get_by_role("link", name="Members", exact=True).first.click()
    table = page.locator("table")
    expect(table).to_contain_text("demo-reviewer")
    expect(table).to_contain_text("demo-owner")

    page.get_by_role("link", name="API tokens").click()
    page.get_by_label("Name").fill("CI uploads")
    page.get_by_role("button", name="Create token").click()
    secret = page.locator("#new-token")
    expect(secret).to_have_text(re.compile(r"^trb_[\w-]{43}$"))
    row = page.locator("tr", has_text="CI uploads")
    expect(row).to_contain_text("active")
    page.screenshot(path=str(tmp_path / "tokens.png"), full_page=True)

    row.get_by_role("button", name="Revoke").click()
    expect(page.locator(".flash.success")).to_contain_text("Token revoked")
    expect(page.locator("tr", has_text="CI uploads")).to_contain_text("revoked")


def test_reviewer_sees_but_cannot_manage_members(page, demo_server):
    page.goto(demo_server + "/login")
    page.get_by_role("button", name="Sign in as demo-reviewer").click()
    page.get_by_role("link", name="Members", exact=True).first.click()
    expect(page.locator("table")).to_contain_text("demo-owner")
    expect(page.get_by_role("button", name="Invite")).to_have_count(0)
    expect(page.get_by_role("link", name="API tokens")).to_have_count(0)
