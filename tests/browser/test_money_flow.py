"""The money loop in the demo: a maintainer claims a project and says where to be paid,
the month is approved, the reviewer exports the GitHub Sponsors file, imports the receipts,
sees the reconciliation and produces the Open Source Pledge report; the maintainer sees
what was pledged and paid to them."""

import csv
import re

import pytest
from playwright.sync_api import expect

from service.core.clock import utcnow
from tests.browser.conftest import check_page

pytestmark = pytest.mark.browser  # CI's clock-shifted runs leave them out


def sign_in(page, server, login):
    page.goto(server + "/login")
    page.get_by_role("button", name=f"Sign in as {login}").click()


def test_from_approval_to_money_received_and_reported(page, demo_server, tmp_path, axe, artifacts):
    # The maintainer claims ee-first and adds a GitHub Sponsors channel.
    sign_in(page, demo_server, "demo-maintainer")
    page.get_by_role("link", name="My projects").click()
    page.locator("tr", has_text="jonathanong/ee-first").get_by_role(
        "button", name="Check with GitHub and claim"
    ).click()
    page.goto(demo_server + "/me/payout")
    page.locator("select[name=kind]").select_option("github_sponsors")
    page.locator("input[name=value]").fill("demo-maintainer")
    page.get_by_role("button", name="Add").click()
    expect(page.locator("table")).to_contain_text("demo-maintainer")

    # The owner recomputes this month (ee-first is claimed now); the reviewer approves.
    sign_in(page, demo_server, "demo-owner")
    page.get_by_role("link", name="Proposals", exact=True).first.click()
    page.get_by_role("button", name="Preview now").click()
    period = re.search(r"/proposals/(\d{4}-\d{2})", page.url)[1]
    review_url = page.url
    sign_in(page, demo_server, "demo-reviewer")
    page.goto(review_url)
    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("approved")

    # Pledges: this month's, with totals; the GitHub Sponsors file.
    page.get_by_role("link", name="Pledges", exact=True).first.click()
    expect(page.locator("table").first).to_contain_text("github.com/jonathanong/ee-first")
    page.locator("select[name=period]").last.select_option(period)
    page.locator("select[name=kind]").select_option("github-sponsors")
    page.get_by_role("button", name="Export").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("github sponsors export")
    expect(page.locator("main")).to_contain_text("Left out")
    check_page(page, axe, artifacts, "reviewer-export")
    with page.expect_download() as download:
        page.locator("a[download]").first.click()
    with open(download.value.path(), encoding="utf-8") as exported:
        rows = list(csv.reader(exported))
    assert rows[0] == ["Maintainer username", "Sponsorship amount in USD"]
    paid = {login: dollars for login, dollars in rows[1:]}
    assert "demo-maintainer" in paid

    # The receipts GitHub sends back: import them, mapping step and all.
    receipts = tmp_path / "sponsorships.csv"
    receipts.write_text(
        "Transaction date,Maintainer username,Processed amount,Transaction ID\n"
        f"{utcnow().date().isoformat()},demo-maintainer,{paid['demo-maintainer']}.00,GH-1\n"
        f"{utcnow().date().isoformat()},someone-else,3.00,GH-2\n"
    )
    page.get_by_role("link", name="Import receipts").click()
    page.locator("input[type=file]").set_input_files(str(receipts))
    page.locator("select[name=preset]").select_option("github_sponsors")
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_role("heading", name="Which column holds what")).to_be_visible()
    check_page(page, axe, artifacts, "reviewer-receipts-mapping")
    page.get_by_role("button", name="Import").click()
    report = page.locator("table").first
    expect(report).to_contain_text("matched")
    expect(report).to_contain_text("github.com/jonathanong/ee-first")
    expect(report).to_contain_text("no open pledge")
    check_page(page, axe, artifacts, "reviewer-receipts-imported")

    # Reconciliation of the month: paid moved, and the unmatched receipt is explained.
    page.get_by_role("link", name="Reconciliation").click()
    page.locator("select[name=period]").select_option(period)
    page.get_by_role("button", name="Show").click()
    expect(page.locator("main")).to_contain_text("someone-else")
    # The receipt paid the pledge: the file sends whole dollars (its total rounded to
    # them), so at most the pledge's cents can stay owed, depending on the month's amounts.
    ee_first = page.locator("tr", has_text="github.com/jonathanong/ee-first")
    expect(ee_first.locator("td").nth(5)).to_have_text(re.compile(r"^(paid|partly paid)$"))
    assert float(ee_first.locator("td").nth(4).inner_text()) < 1
    check_page(page, axe, artifacts, "reviewer-reconciliation-month")

    # The dashboard moved with it: the month approved today has a payment now.
    page.get_by_role("link", name="Home", exact=True).first.click()
    page.get_by_role("link", name="Dashboard").click()
    month_row = page.locator("#money ~ div tr", has_text=period).first
    expect(month_row.locator("td").nth(5)).not_to_have_text("0.00")
    page.get_by_role("link", name="Pledges", exact=True).first.click()

    # The Open Source Pledge report for this year.
    page.get_by_role("link", name="Open Source Pledge report").click()
    page.locator("input[name=year]").fill(str(utcnow().year))
    page.locator("input[name=developers]").fill("12")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("pre.report")).to_contain_text("Open Source Pledge report")
    expect(page.locator("pre.report")).to_contain_text("github.com/jonathanong/ee-first")
    check_page(page, axe, artifacts, "reviewer-pledge-report")

    # The maintainer sees what was pledged and paid to them.
    sign_in(page, demo_server, "demo-maintainer")
    page.get_by_role("link", name="Pledged to me").click()
    month = page.locator("table", has_text="github.com/jonathanong/ee-first").first
    expect(month).to_contain_text("Acme Demo")
    expect(month).to_contain_text("paid")
    check_page(page, axe, artifacts, "maintainer-pledged-to-me-paid")
