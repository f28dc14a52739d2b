"""The Open Source Pledge report for a year (pure: no Flask, no database).

The Pledge asks a company to pay open source maintainers at least $2,000 per developer
per year, in cash. The report counts payments recorded (money that left, not pledges),
converts each currency to US dollars at the rate the company enters, and divides by the
average number of developers over the year. The Pledge counts money to maintainers and
to foundations alike; the report still totals the registry stewards of the
infrastructure share apart from the maintainers, so a reader sees where the money went.
It comes as Markdown for the public post and as JSON with the fields ``year``,
``reportDate``, ``averageNumberOfDevs`` and ``usdAmountPaid``, plus the payments per
recipient.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from service.money import exponent, format_amount

TARGET_PER_DEVELOPER_CENTS = 200_000  # $2,000
CENT = Decimal("0.01")


class ReportError(ValueError):
    """Input the report cannot use; the message names it."""


@dataclass(frozen=True)
class PaidItem:
    recipient: str  # the project
    amount_minor: int
    currency: str
    paid_on: date
    infrastructure: bool = False  # a registry steward, not a project's maintainers


@dataclass(frozen=True)
class RecipientTotal:
    recipient: str
    usd_cents: int
    payments: int
    by_currency: dict[str, int]  # currency → minor units as paid
    infrastructure: bool = False


@dataclass(frozen=True)
class PledgeReport:
    year: int
    report_date: date
    developers: Decimal
    usd_cents: int
    recipients: list[RecipientTotal]
    rates: dict[str, Decimal]

    @property
    def infrastructure_usd_cents(self) -> int:
        return sum(t.usd_cents for t in self.recipients if t.infrastructure)

    @property
    def maintainers_usd_cents(self) -> int:
        return self.usd_cents - self.infrastructure_usd_cents

    @property
    def per_developer_cents(self) -> int:
        return int((Decimal(self.usd_cents) / self.developers).quantize(1, ROUND_HALF_EVEN))

    @property
    def target_cents(self) -> int:
        return int((self.developers * TARGET_PER_DEVELOPER_CENTS).quantize(1, ROUND_HALF_EVEN))

    @property
    def meets_target(self) -> bool:
        return self.per_developer_cents >= TARGET_PER_DEVELOPER_CENTS


def parse_developers(text: str | int | Decimal) -> Decimal:
    try:
        value = Decimal(str(text).strip())
    except InvalidOperation:
        raise ReportError(f"developers: {text!r} is not a number") from None
    if not value.is_finite() or value <= 0:
        raise ReportError("developers: give the average number of developers, more than zero")
    return value


def parse_rates(pairs: Iterable[str]) -> dict[str, Decimal]:
    """['EUR=1.08'] → {'EUR': Decimal('1.08')}: US dollars for one unit of the currency."""
    rates = {}
    for pair in pairs:
        code, _, text = pair.partition("=")
        try:
            rate = Decimal(text.strip())
        except InvalidOperation:
            raise ReportError(f"rate {pair!r}: write it as CUR=RATE, e.g. EUR=1.08") from None
        if not code.strip() or not rate.is_finite() or rate <= 0:
            raise ReportError(f"rate {pair!r}: write it as CUR=RATE with a rate above zero")
        rates[code.strip().upper()] = rate
    return rates


def to_usd_cents(amount_minor: int, currency: str, rates: Mapping[str, Decimal]) -> int:
    if currency == "USD":
        return amount_minor
    if currency not in rates:
        raise ReportError(
            f"payments in {currency} need a rate: how many US dollars is one {currency}?"
        )
    units = Decimal(amount_minor).scaleb(-exponent(currency))
    return int((units * rates[currency] / CENT).quantize(1, ROUND_HALF_EVEN))


def build(
    year: int,
    report_date: date,
    developers: Decimal,
    items: Iterable[PaidItem],
    rates: Mapping[str, Decimal],
) -> PledgeReport:
    """The report over the payments made in `year` (others are not counted)."""
    per: dict[str, dict] = {}
    for item in items:
        if item.paid_on.year != year:
            continue
        entry = per.setdefault(
            item.recipient, {"usd": 0, "n": 0, "by": {}, "infra": item.infrastructure}
        )
        entry["usd"] += to_usd_cents(item.amount_minor, item.currency, rates)
        entry["n"] += 1
        entry["by"][item.currency] = entry["by"].get(item.currency, 0) + item.amount_minor
    recipients = sorted(
        (
            RecipientTotal(r, e["usd"], e["n"], dict(sorted(e["by"].items())), e["infra"])
            for r, e in per.items()
        ),
        key=lambda t: (-t.usd_cents, t.recipient),
    )
    used = {c for t in recipients for c in t.by_currency if c != "USD"}
    return PledgeReport(
        year,
        report_date,
        developers,
        sum(t.usd_cents for t in recipients),
        recipients,
        {c: rates[c] for c in sorted(used)},
    )


def _dollars(cents: int) -> str:
    return format_amount(cents, "USD")


def to_json(report: PledgeReport) -> str:
    """The report as JSON; amounts are exact decimal numbers (never floats)."""
    body = {
        "year": report.year,
        "reportDate": report.report_date.isoformat(),
        "averageNumberOfDevs": "@developers@",
        "usdAmountPaid": "@paid@",
        "usdAmountPaidPerDev": "@per@",
        "usdAmountPaidToMaintainers": "@maintainers@",
        "usdAmountPaidToInfrastructure": "@infrastructure@",
        "conversionRates": {c: str(r) for c, r in report.rates.items()},
        "payments": [
            {
                "recipient": t.recipient,
                "kind": "infrastructure" if t.infrastructure else "maintainers",
                "usdAmountPaid": f"@r{i}@",
                "payments": t.payments,
                "paidAsRecorded": {c: format_amount(m, c) for c, m in t.by_currency.items()},
            }
            for i, t in enumerate(report.recipients)
        ],
    }
    text = json.dumps(body, indent=2)
    numbers = {
        "developers": str(report.developers),
        "paid": _dollars(report.usd_cents),
        "per": _dollars(report.per_developer_cents),
        "maintainers": _dollars(report.maintainers_usd_cents),
        "infrastructure": _dollars(report.infrastructure_usd_cents),
        **{f"r{i}": _dollars(t.usd_cents) for i, t in enumerate(report.recipients)},
    }
    for key, number in numbers.items():
        text = text.replace(f'"@{key}@"', number)
    return text + "\n"


def to_markdown(report: PledgeReport, company: str) -> str:
    status = "meets" if report.meets_target else "does not yet meet"
    lines = [
        f"# {company}: Open Source Pledge report {report.year}",
        "",
        f"Report date: {report.report_date.isoformat()}",
        "",
        f"- Average number of developers: {report.developers}",
        f"- Paid to open source: ${_dollars(report.usd_cents)}",
        f"  - to the maintainers of projects: ${_dollars(report.maintainers_usd_cents)}",
        f"  - to the stewards of package registries: ${_dollars(report.infrastructure_usd_cents)}",
        f"- Per developer: ${_dollars(report.per_developer_cents)} "
        f"({status} the Pledge's $2,000 per developer)",
        "",
        "| Recipient | Kind | Paid (USD) | Payments | As paid |",
        "|---|---|---:|---:|---|",
    ]
    for t in report.recipients:
        kind = "registry" if t.infrastructure else "project"
        paid = ", ".join(f"{format_amount(m, c)} {c}" for c, m in t.by_currency.items())
        lines.append(
            f"| {t.recipient} | {kind} | {_dollars(t.usd_cents)} | {t.payments} | {paid} |"
        )
    if report.rates:
        rates = ", ".join(f"1 {c} = {r} USD" for c, r in report.rates.items())
        lines += ["", f"Converted at: {rates}."]
    return "\n".join(lines) + "\n"
