"""Importing receipts: the mapping remembered per company, matching by platform account,
currency and month, unmatched rows with their reason, idempotence, one transaction."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import select

from service.audit.services import Actor
from service.pledges import importing, services
from service.pledges.models import Payment, ReceiptMapping
from service.pledges.receipts import ReceiptError

NOW = datetime(2027, 1, 10, 9, tzinfo=UTC)
ACTOR = Actor(user_id=None, label="test")

GITHUB = (
    "Transaction date,Maintainer username,Processed amount,Transaction ID\n"
    "2027-01-05,left,100.00,T1\n"
    "2027-01-05,stranger,5.00,T2\n"
)
OPEN_COLLECTIVE = (
    "datetime,shortId,description,type,kind,amount,currency,accountSlug,oppositeAccountSlug\n"
    "2027-01-06T10:00:00Z,abc123,Contribution,DEBIT,CONTRIBUTION,-15.00,USD,acme,fw-oc\n"
    "2027-01-06T10:00:00Z,abc124,Fee,DEBIT,PAYMENT_PROCESSOR_FEE,-0.50,USD,acme,stripe\n"
)


def run(session, found, text, preset="github_sponsors", mapping=None, data=None):
    upload = importing.start_import(
        session,
        ACTOR,
        company_id=found.company.id,
        data=data or text.encode(),
        filename="r.csv",
        preset=preset,
    )
    _table, proposed = importing.proposed_mapping(session, upload)
    report = importing.confirm_import(session, ACTOR, upload, mapping or proposed)
    session.commit()
    return report


def pledge(session, found, name):
    return next(
        p
        for p in services.pledges_of(session, found.company.id)
        if p.project_id == found.projects[name].id
    )


def test_github_sponsors_receipts_are_matched_once(session, found):
    report = run(session, found, GITHUB)
    assert [(e["row"], e["status"]) for e in report] == [(2, "matched"), (3, "unmatched")]
    left = pledge(session, found, "left")
    assert report[0]["pledges"] == [
        {"id": left.id, "project": "github.com/left/pad", "period": "2026-12", "amount": "100.00"}
    ]
    assert report[1]["reason"] == (
        "no open pledge of 2026-12 or 2027-01 pays stranger on "
        "GitHub Sponsors: organisation sponsorship export"
    )
    assert (left.state, left.paid_minor) == ("paid", 10_000)
    [payment] = services.payments_of(session, left)
    assert (payment.platform, payment.reference, payment.receipt_id is not None) == (
        "github_sponsors",
        "T1",
        True,
    )
    # The same file again records nothing twice; the unmatched row is tried again.
    again = run(session, found, GITHUB.encode("utf-16").decode("utf-16"))
    assert [e["status"] for e in again] == ["already_imported", "unmatched"]
    assert len(session.exec(select(Payment)).all()) == 1


def test_open_collective_receipts_pay_a_maintainers_share(session, found):
    framework = pledge(session, found, "framework")
    framework.channels = {
        "maintainers": [
            {
                "user_id": found.maintainer.id,
                "login": found.maintainer.login,
                "share_bp": 10_000,
                "channels": [
                    {
                        "kind": "open_collective",
                        "value": "fw-oc",
                        "url": None,
                        "preferred": True,
                        "minimum_minor": None,
                    }
                ],
            }
        ],
        "project": [],
    }
    session.add(framework)
    session.commit()
    report = run(session, found, OPEN_COLLECTIVE, "open_collective")
    assert [(e["status"], e["reason"]) for e in report] == [
        ("matched", None),
        ("skipped", "not a payment (kind is PAYMENT_PROCESSOR_FEE)"),
    ]
    assert (framework.state, framework.paid_minor) == ("partially_paid", 1_500)
    # The mapping is remembered for the next file of this preset.
    remembered = session.get(ReceiptMapping, (found.company.id, "open_collective"))
    assert remembered.mapping["account"] == "oppositeAccountSlug"


def test_more_than_owed_and_other_currencies_are_unmatched(session, found):
    text = (
        "Date,Payee,Amount,Currency,Reference\n"
        "2027-01-07,left,-120.00,USD,wire 1\n"
        "2027-01-07,left,10.00,EUR,wire 2\n"
        "2027-01-07,left,60.00,USD,wire 3\n"
        "2027-01-07,left,60.00,USD,wire 3\n"
    )
    report = run(session, found, text, "bank")
    assert [(e["status"], e["reason"]) for e in report] == [
        ("unmatched", "120.00 USD is more than the 100.00 still owed to left"),
        ("unmatched", "the pledges that pay left are not in EUR"),
        ("matched", None),
        ("skipped", "the same as row 4"),
    ]
    assert pledge(session, found, "left").paid_minor == 6_000


def test_a_whole_dollar_file_may_round_up_under_a_dollar(session, found):
    text = "Transaction date,Maintainer username,Processed amount\n2027-01-05,left,100.80\n"
    [entry] = run(session, found, text)
    assert entry["status"] == "matched"
    assert (
        entry["reason"]
        == "0.80 USD above what was owed (the file's whole-dollar rounding), not recorded"
    )
    assert pledge(session, found, "left").paid_minor == 10_000


def test_a_file_that_cannot_be_read_stores_nothing(session, found):
    with pytest.raises(ReceiptError) as caught:
        run(
            session,
            found,
            "Transaction date,Maintainer username,Processed amount\n2027-01-05,left,abc\n",
        )
    assert caught.value.problems == ["Row 2, column 'Processed amount': 'abc' is not an amount"]
    session.rollback()
    assert session.exec(select(Payment)).all() == []
    with pytest.raises(ReceiptError, match="no rows"):
        run(session, found, "Transaction date,Maintainer username,Processed amount\n")
    with pytest.raises(ReceiptError, match="Unknown preset"):
        run(session, found, GITHUB, "paypal")


def test_a_receipt_of_another_company_never_pays_our_pledges(session, found):
    from tests.allocation.data import acme

    other = acme(session)
    report = run(session, other, GITHUB)
    assert report[0]["status"] == "unmatched"
    assert pledge(session, found, "left").paid_minor == 0
    assert importing.imports_of(session, found.company.id) == []
