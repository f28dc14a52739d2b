"""The Open Source Pledge report: cash paid in the year, converted at the rates given,
per developer against $2,000; Markdown and JSON; the command line."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from service.audit.services import Actor
from service.pledges import pledge_report, services
from service.pledges.pledge_report import PaidItem, ReportError

NOW = datetime(2028, 1, 15, 9, tzinfo=UTC)
ITEMS = [
    PaidItem("github.com/left/pad", 10_000, "USD", date(2027, 1, 5)),
    PaidItem("github.com/left/pad", 5_000, "USD", date(2027, 3, 1)),
    PaidItem("github.com/fw/framework", 3_000, "EUR", date(2027, 2, 1)),
    PaidItem("github.com/tiny/tiny", 1_000, "JPY", date(2027, 4, 1)),  # no minor unit
    PaidItem("github.com/left/pad", 500, "USD", date(2026, 12, 31)),  # another year
]
RATES = {"EUR": Decimal("1.08"), "JPY": Decimal("0.0067")}


def test_the_arithmetic():
    report = pledge_report.build(2027, date(2028, 1, 15), Decimal("2.5"), ITEMS, RATES)
    # 150.00 USD + 30.00 EUR x 1.08 = 32.40 + 1,000 JPY x 0.0067 = 6.70 → 189.10 USD
    assert report.usd_cents == 18_910
    assert [(t.recipient, t.usd_cents, t.payments) for t in report.recipients] == [
        ("github.com/left/pad", 15_000, 2),
        ("github.com/fw/framework", 3_240, 1),
        ("github.com/tiny/tiny", 670, 1),
    ]
    assert report.per_developer_cents == 7_564  # 189.10 / 2.5
    assert report.target_cents == 500_000 and not report.meets_target


def test_json_and_markdown():
    report = pledge_report.build(2027, date(2028, 1, 15), Decimal("2.5"), ITEMS, RATES)
    body = json.loads(pledge_report.to_json(report), parse_float=Decimal)
    assert {k: body[k] for k in ("year", "reportDate", "averageNumberOfDevs", "usdAmountPaid")} == {
        "year": 2027,
        "reportDate": "2028-01-15",
        "averageNumberOfDevs": Decimal("2.5"),
        "usdAmountPaid": Decimal("189.10"),
    }
    assert body["payments"][1] == {
        "recipient": "github.com/fw/framework",
        "kind": "maintainers",
        "usdAmountPaid": Decimal("32.40"),
        "payments": 1,
        "paidAsRecorded": {"EUR": "30.00"},
    }
    assert body["conversionRates"] == {"EUR": "1.08", "JPY": "0.0067"}
    markdown = pledge_report.to_markdown(report, "Acme")
    assert markdown.splitlines()[:10] == [
        "# Acme: Open Source Pledge report 2027",
        "",
        "Report date: 2028-01-15",
        "",
        "- Average number of developers: 2.5",
        "- Paid to open source: $189.10",
        "  - to the maintainers of projects: $189.10",
        "  - to the stewards of package registries: $0.00",
        "- Per developer: $75.64 (does not yet meet the Pledge's $2,000 per developer)",
        "",
    ]
    assert "| github.com/fw/framework | project | 32.40 | 1 | 30.00 EUR |" in markdown
    assert markdown.endswith("Converted at: 1 EUR = 1.08 USD, 1 JPY = 0.0067 USD.\n")


def test_registry_stewards_count_for_the_pledge_but_are_totalled_apart():
    steward = PaidItem("infrastructure/pypi", 2_500, "USD", date(2027, 6, 1), True)
    report = pledge_report.build(2027, date(2028, 1, 15), Decimal(1), [*ITEMS, steward], RATES)
    assert (report.usd_cents, report.maintainers_usd_cents, report.infrastructure_usd_cents) == (
        21_410,
        18_910,
        2_500,
    )
    body = json.loads(pledge_report.to_json(report), parse_float=Decimal)
    assert (body["usdAmountPaidToMaintainers"], body["usdAmountPaidToInfrastructure"]) == (
        Decimal("189.10"),
        Decimal("25.00"),
    )
    assert [p["kind"] for p in body["payments"]] == [
        "maintainers",
        "maintainers",
        "infrastructure",
        "maintainers",
    ]
    markdown = pledge_report.to_markdown(report, "Acme")
    assert "  - to the stewards of package registries: $25.00" in markdown
    assert "| infrastructure/pypi | registry | 25.00 | 1 | 25.00 USD |" in markdown


def test_bad_input_is_named():
    with pytest.raises(ReportError, match="payments in EUR need a rate"):
        pledge_report.build(2027, date(2028, 1, 1), Decimal(1), ITEMS, {})
    with pytest.raises(ReportError, match="more than zero"):
        pledge_report.parse_developers("0")
    with pytest.raises(ReportError, match="not a number"):
        pledge_report.parse_developers("many")
    with pytest.raises(ReportError, match="CUR=RATE"):
        pledge_report.parse_rates(["EUR:1.08"])
    assert pledge_report.parse_rates(["eur=1.08"]) == {"EUR": Decimal("1.08")}


def test_the_report_command(app, session, found):
    left = next(
        p
        for p in services.pledges_of(session, found.company.id)
        if p.project_id == found.projects["left"].id
    )
    services.record_payment(
        session,
        Actor.system("t"),
        left,
        amount="100.00",
        currency="USD",
        paid_on="2027-01-05",
        platform="github_sponsors",
    )
    session.commit()
    from service.cli import cli

    def run(*args):
        return app.test_cli_runner().invoke(
            cli, ["report", "open-source-pledge", "--company", found.company.slug, *args]
        )

    made = run("--year", "2027", "--developers", "4", "--json")
    assert made.exit_code == 0, made.output
    body = json.loads(made.stdout)
    assert (body["year"], body["averageNumberOfDevs"], body["usdAmountPaid"]) == (2027, 4, 100)
    assert body["reportDate"] == "2028-01-15"
    assert "- Per developer: $25.00" in run("--year", "2027", "--developers", "4").stdout
    bad = run("--year", "2027", "--developers", "none")
    assert bad.exit_code == 1 and "not a number" in bad.stderr
